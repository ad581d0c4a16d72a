"""Test plugins the way they run: a bot, a Smartsupp sandbox, a visitor and a virtual clock.

This module is a pytest plugin (registered through the ``pytest11`` entry point, so it is
active wherever agentbot is installed). Its fixture ``agentbot_harness`` starts a real
:class:`~agentbot.runtime.bot.Bot` with the plugins you choose, logged in over the real
client and Socket.IO protocol to an in-process sandbox (no sockets, no Smartsupp account),
and lets the test speak as a visitor and read what the bot sent::

    async def test_greets(agentbot_harness):
        async with agentbot_harness(plugins={"hello": hello_plugin}) as harness:
            visitor = await harness.visitor(name="Ada", lang="en")
            await visitor.say("hi")
            reply = await visitor.next_reply()
            assert reply.text == "Hello Ada!"
            assert 1.0 <= reply.typing_seconds <= 8.0   # the pacing model, not a sleep
            await visitor.expect_no_reply()

Time: the bot runs on a :class:`~agentbot.runtime.clock.VirtualClock` that only the harness
moves, and the sandbox stamps its transcript with the same clock. Waiting for a reply lets
the bot work until it is settled (every event handled, every task either done or asleep on
the clock), then jumps the clock to the next deadline — so a reply paced at 4.2 s arrives
at once, and the transcript says it took 4.2 s. Nothing sleeps for real, and no assertion
depends on the speed of the machine.

What "settled" means, precisely: every message a simulated visitor said has reached the
bot, no chat actor is busy except those asleep on the virtual clock, and nothing observable
(sandbox recordings, the bot's counters, the clock's sleepers) changed for
:data:`SETTLE_ROUNDS` consecutive event-loop turns. A plugin awaiting real I/O (an HTTP call
to a local test server, say) keeps its chat busy, so the harness waits for it, bounded by
``wait_seconds`` of real time.

Failures are assertions with the chat's transcript attached: :class:`NoReply` when the bot
stays silent, :class:`UnexpectedReply` when it answers where it should not, and, when the
harness closes, :class:`PluginFailed` if a plugin raised or overran its time budget during
the test (``strict=False`` turns that check off, for tests about broken plugins).

Works on asyncio and trio. Only the names in ``__all__`` are public.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from agentbot.testing.harness import DEFAULT_WAIT_SECONDS, SETTLE_ROUNDS, BotHarness
from agentbot.testing.launch import PluginSpec, bot_harness
from agentbot.testing.records import (
    BotMessage,
    HarnessTimeout,
    NoReply,
    PluginFailed,
    SaidMessage,
    TranscriptEntry,
    UnexpectedReply,
)
from agentbot.testing.visitor import DEFAULT_REPLY_WITHIN_SECONDS, SimulatedVisitor

__all__ = [
    "DEFAULT_REPLY_WITHIN_SECONDS",
    "DEFAULT_WAIT_SECONDS",
    "SETTLE_ROUNDS",
    "BotHarness",
    "BotMessage",
    "HarnessFactory",
    "HarnessTimeout",
    "NoReply",
    "PluginFailed",
    "PluginSpec",
    "SaidMessage",
    "SimulatedVisitor",
    "TranscriptEntry",
    "UnexpectedReply",
    "agentbot_harness",
    "bot_harness",
]

HarnessFactory = Callable[..., AbstractAsyncContextManager[BotHarness]]
"""The type of the ``agentbot_harness`` fixture: :func:`bot_harness`'s signature."""


@pytest.fixture
def agentbot_harness() -> HarnessFactory:
    """Start bots against an in-process sandbox: ``async with agentbot_harness(...) as h``.

    The fixture is :func:`agentbot.testing.bot_harness`; see it for the options. A test may
    start several harnesses, one after the other or side by side.
    """
    return bot_harness
