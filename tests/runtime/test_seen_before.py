"""A visitor message the store already holds is skipped loudly, naming the store.

Restarting a sandbox that reused ids used to leave new visitors unanswered with only an INFO
line; the warning names the store so a shared or stale store is found at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agentbot import hookimpl
from agentbot.runtime.replies import Reply
from agentbot.runtime.storage import Storage

from .conftest import RunningBot
from .fakes import visitor_message


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}", confidence=0.5)


async def test_a_message_seen_before_is_a_warning_naming_the_store(
    running_bot: RunningBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "answered.sqlite3"
    event = visitor_message("c1", "hello", message_id="m-again")
    with Storage(path) as storage:
        async with running_bot(Echo(), storage=storage) as (_bot, client):
            await client.feed(event)
            await client.wait_calls(3)
    caplog.set_level(logging.WARNING, logger="agentbot.runtime.bot")
    with Storage(path) as storage:
        async with running_bot(Echo(), storage=storage) as (bot, client):
            # A second message after the repeat: once it is answered, the repeat was handled.
            await client.feed(event, visitor_message("c1", "barrier"))
            await client.wait_calls(3)
            assert client.messages() == ["echo: barrier"]
            assert bot.stats["duplicates"] == 1
    warnings = [r for r in caplog.records if "seen before" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "m-again" in warnings[0].getMessage()
    assert "answered.sqlite3" in warnings[0].getMessage()
