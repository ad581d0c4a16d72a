"""Sandbox ids look like Smartsupp's and are never repeated, not even across restarts.

A sandbox that counted from 1 on every start handed a restarted bot ``ms1`` again, which the
bot's store remembered as answered ("seen before; not answering"): new visitors went
unanswered. Real ids are random strings with a type prefix; the prefixes come from the
vendor's own examples (VENDOR-SOURCES.md: conversation ``co2wgLaNKxtOe``, visitor
``viJqfKK4RIOh``, message ``msd1L4y1Gtxq``).
"""

from __future__ import annotations

import re

from agentbot.sandbox import create_app
from agentbot.sandbox.config import SandboxConfig
from agentbot.sandbox.state import AccountState

VENDOR_SHAPED = {
    "chat": re.compile(r"^co[A-Za-z0-9]{10}$"),
    "visitor": re.compile(r"^vi[A-Za-z0-9]{10}$"),
    "message": re.compile(r"^ms[A-Za-z0-9]{10}$"),
}


def one_conversation() -> dict[str, str]:
    """Start a fresh sandbox, have a visitor write once, and return the ids it minted."""
    control = create_app(pages=False).state.control
    visitor = control.create_visitor(name="Ada")["visitor"]
    sent = control.visitor_message(visitor["id"], "hello")
    return {"visitor": visitor["id"], "chat": sent["chat"]["id"], "message": sent["message"]["id"]}


def test_ids_have_the_vendors_prefixes_and_shape() -> None:
    ids = one_conversation()
    for kind, shape in VENDOR_SHAPED.items():
        assert shape.match(ids[kind]), (kind, ids[kind])


def test_a_restarted_sandbox_never_reuses_an_id() -> None:
    first, second = one_conversation(), one_conversation()
    assert set(first.values()).isdisjoint(second.values())


def test_ids_stay_unique_within_one_sandbox_after_reset() -> None:
    state = AccountState(SandboxConfig())
    issued = [state.new_id("ms") for _ in range(2000)]
    state.reset()
    issued += [state.new_id("ms") for _ in range(2000)]
    assert len(set(issued)) == len(issued)
