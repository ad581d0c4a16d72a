"""Log lines name the chat and the plugin they were written for, in JSON and in text.

A real bot on the in-process sandbox: a plugin logs from its hook (async and, in a worker
thread, sync); the runtime logs from the chat's actor. Lines are formatted by the same
formatters ``agentbot run`` installs, and must never carry the account key or auth token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from agentbot import PluginBot, Reply, hookimpl
from agentbot.runtime.logs import BOT_NAME, formatter

from .test_e2e_sandbox import bot_on_sandbox


class Logs:
    """Logs from an async hook (on the loop) and a sync one (in a worker thread)."""

    @hookimpl
    async def on_visitor_message(self, bot: PluginBot, chat_id: str, text: str) -> Reply:
        bot.logger.warning("answering in %s", chat_id)
        return Reply("ok", confidence=0.5)

    @hookimpl
    def on_reply_chosen(self, bot: PluginBot) -> None:
        bot.logger.warning("a reply was chosen")


class Lines(logging.Handler):
    def __init__(self, log_format: str) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(formatter(log_format))  # type: ignore[arg-type]
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured(log_format: str) -> Iterator[Lines]:
    handler = Lines(log_format)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_lines_from_a_plugin_hook_name_the_chat_and_the_plugin(log_format: str) -> None:
    token = BOT_NAME.set("bot-a")  # as the fleet sets it in each bot's task
    try:
        with captured(log_format) as handler:
            async with bot_on_sandbox(
                4, Logs(), in_process=True, runtime={"sync_hooks": "thread"}
            ) as h:
                chat_id, _, _ = h.write("hello")
                await h.wait(lambda: ("typing", False) in h.wire(chat_id))
                secrets = (h.bot.config.smartsupp.key, h.bot.config.smartsupp.auth_token)
    finally:
        BOT_NAME.reset(token)
    answering = [line for line in handler.lines if "answering in" in line]
    chosen = [line for line in handler.lines if "a reply was chosen" in line]
    assert len(answering) == 1, handler.lines
    assert len(chosen) == 1, handler.lines
    if log_format == "json":
        for line in answering + chosen:
            entry = json.loads(line)
            assert (entry["bot"], entry["chat"], entry["plugin"]) == ("bot-a", chat_id, "p0")
    else:
        for line in answering + chosen:
            assert f"[bot-a chat={chat_id} plugin=p0] agentbot.plugins.p0: " in line
    for secret in secrets:
        assert secret
        assert all(secret not in line for line in handler.lines)


def test_a_line_outside_any_chat_or_plugin_has_no_such_fields() -> None:
    record = logging.LogRecord("agentbot.x", logging.INFO, __file__, 1, "started", None, None)
    entry = json.loads(formatter("json").format(record))
    assert "chat" not in entry
    assert "plugin" not in entry
    assert "bot" not in entry
    assert "[" not in formatter("text").format(record)
