"""Sync hooks that block run in a worker thread (``[runtime] sync_hooks``): one slow plugin
cannot stall every chat, and its ``bot`` calls still reach the runtime safely.

The blocking here is real (a plugin waiting on a lock or a slow database is exactly what is
being guarded against), so these tests wait on ``threading.Event`` objects the test sets, never
on a guessed sleep; the one time budget they use is the runtime's own (0.2 s).
"""

from __future__ import annotations

import threading
import time

from agentbot import PluginBot, Reply, hookimpl
from agentbot.runtime.plugins import BLOCKING_SECONDS

from .conftest import RunningBot
from .fakes import visitor_message


class Records:
    def __init__(self) -> None:
        self.threads: list[int] = []


async def test_a_hook_that_blocked_once_runs_in_a_worker_thread_from_then_on(
    running_bot: RunningBot,
) -> None:
    seen = Records()

    class Slow:
        calls = 0

        @hookimpl
        def on_visitor_message(self, text: str) -> Reply:
            Slow.calls += 1
            seen.threads.append(threading.get_ident())
            if Slow.calls == 1:
                time.sleep(BLOCKING_SECONDS * 1.5)  # the plugin blocks the loop once
            return Reply(f"re: {text}")

    async with running_bot(Slow()) as (bot, client):
        await client.feed(visitor_message("c1", "one"))
        await client.wait_for(lambda calls: len(client.messages()) == 1)
        await client.feed(visitor_message("c2", "two"))
        await client.wait_for(lambda calls: len(client.messages()) == 2)
        assert ("p0", "on_visitor_message") in bot.host.blocking
        loop_thread = bot.loop_thread
    assert seen.threads[0] == loop_thread  # first call inline: nobody knew it blocks
    assert seen.threads[1] != loop_thread  # then in a worker thread
    assert client.messages() == ["re: one", "re: two"]


async def test_a_blocked_sync_hook_is_abandoned_at_its_budget_and_other_chats_answer(
    running_bot: RunningBot,
) -> None:
    release = threading.Event()

    class Stuck:
        @hookimpl
        def on_visitor_message(self, chat_id: str) -> Reply | None:
            if chat_id == "c1":
                release.wait(30)  # a lock nobody frees in time
            return None

    class Echo:
        @hookimpl
        async def on_visitor_message(self, text: str) -> Reply:
            return Reply(f"echo: {text}")

    runtime = {"sync_hooks": "thread", "hook_timeout_seconds": 0.2}
    try:
        async with running_bot(Stuck(), Echo(), runtime=runtime) as (bot, client):
            await client.feed(visitor_message("c1", "stuck"), visitor_message("c2", "free"))
            await client.wait_for(lambda calls: len(client.messages()) == 2)
            assert bot.host.timeouts["p0"] == 1
    finally:
        release.set()  # let the abandoned thread finish
    assert sorted(client.messages()) == ["echo: free", "echo: stuck"]


async def test_bot_calls_from_a_worker_thread_reach_the_runtime(running_bot: RunningBot) -> None:
    class Threaded:
        @hookimpl
        def on_visitor_message(self, bot: PluginBot, chat_id: str, text: str) -> Reply:
            assert threading.get_ident() != bot_thread[0]
            bot.storage.set("last", text)
            assert bot.storage.get("last") == text
            bot.say(chat_id, "(noted)")
            return Reply(f"re: {text}")

    bot_thread: list[int] = []
    async with running_bot(Threaded(), runtime={"sync_hooks": "thread"}) as (bot, client):
        bot_thread.append(bot.loop_thread)
        await client.feed(visitor_message("c1", "hello"))
        await client.wait_for(lambda calls: len(client.messages()) == 2)
        assert bot.plugin_storage("p0").get("last") == "hello"
    # The answer first, then what the message's hook said (the order rule holds off-loop too).
    assert client.messages() == ["re: hello", "(noted)"]
    assert bot.host.failures["p0"] == 0
