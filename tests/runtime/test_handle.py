"""The plugin-facing ``bot`` beyond hooks: background tasks, time, visitors and resuming.

Every wait is on the virtual clock, on an event, or on ``wait_all_tasks_blocked``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentbot import PluginBot, PluginError, Reply, hookimpl
from agentbot.runtime.clock import VirtualClock

from .conftest import RunningBot
from .fakes import visitor_message


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


class Plain:
    """A plugin that implements no hook: the test calls its ``bot`` directly."""


def handle(bot: Any, index: int = 0) -> PluginBot:
    """The ``bot`` a plugin's hooks receive, for calls made from the test itself."""
    result: PluginBot = bot.handle_for(bot.host.plugins[index])
    return result


# ---------------------------------------------------------------------------------------------
# start_soon
# ---------------------------------------------------------------------------------------------


async def test_start_soon_from_on_start_runs_once_the_bot_is_logged_in(
    running_bot: RunningBot,
) -> None:
    ran: list[tuple[str, bool]] = []

    class Starter:
        @hookimpl
        def on_start(self, bot: PluginBot) -> None:
            bot.start_soon(self.work, bot, "arg", name="work")
            assert ran == []  # queued, not run inside on_start

        async def work(self, bot: PluginBot, arg: str) -> None:
            ran.append((arg, bot.session is not None))

    async with running_bot(Starter()) as (bot, _client):
        await settle()
        assert ran == [("arg", True)]
        assert bot.background_tasks == 0


async def test_start_soon_from_a_hook_starts_at_once_and_does_not_hold_up_the_reply(
    running_bot: RunningBot,
) -> None:
    release = anyio.Event()
    done: list[str] = []

    class Slow:
        @hookimpl
        def on_visitor_message(self, bot: PluginBot, text: str) -> Reply:
            bot.start_soon(self.deliver, text)
            return Reply("got it")

        async def deliver(self, text: str) -> None:
            await release.wait()
            done.append(text)

    async with running_bot(Slow()) as (bot, client):
        await client.feed(visitor_message("c1", "lead"))
        await client.wait_calls(3)
        assert client.messages() == ["got it"]
        assert bot.background_tasks == 1
        release.set()
        await settle()
        assert done == ["lead"]
        assert bot.background_tasks == 0


async def test_background_tasks_are_cancelled_at_shutdown_before_on_stop(
    running_bot: RunningBot,
) -> None:
    events: list[str] = []

    class Worker:
        @hookimpl
        def on_connected(self, bot: PluginBot) -> None:
            bot.start_soon(self.forever)

        async def forever(self) -> None:
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                events.append("task cancelled")
                raise

        @hookimpl
        def on_stop(self) -> None:
            events.append("on_stop")

    async with running_bot(Worker()) as (bot, _client):
        await settle()
        assert bot.background_tasks == 1
        assert events == []
    assert events == ["task cancelled", "on_stop"]
    assert bot.background_tasks == 0


async def test_a_failing_background_task_is_logged_with_the_plugin_and_the_bot_goes_on(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    class Failing:
        @hookimpl
        def on_connected(self, bot: PluginBot) -> None:
            bot.start_soon(self.boom, name="webhook delivery")

        async def boom(self) -> None:
            raise RuntimeError("endpoint down")

        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("still here")

    caplog.set_level(logging.ERROR, logger="agentbot")
    async with running_bot(named={"hooky": Failing()}) as (bot, client):
        await settle()
        await client.feed(visitor_message("c1", "hello?"))
        await client.wait_calls(3)
        assert client.messages() == ["still here"]
        assert dict(bot.host.failures) == {"hooky": 1}
    (record,) = [r for r in caplog.records if "webhook delivery" in r.getMessage()]
    assert "hooky" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_a_sync_function_given_to_start_soon_is_a_reported_failure(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    class Mistaken:
        @hookimpl
        def on_connected(self, bot: PluginBot) -> None:
            bot.start_soon(self.not_async)  # type: ignore[arg-type]

        def not_async(self) -> int:
            return 1

    caplog.set_level(logging.ERROR, logger="agentbot")
    async with running_bot(Mistaken()) as (bot, _client):
        await settle()
        assert dict(bot.host.failures) == {"p0": 1}
    assert any(r.exc_info and "not an awaitable" in str(r.exc_info[1]) for r in caplog.records)


async def test_start_soon_while_stopping_is_refused_without_running(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    class Late:
        @hookimpl
        def on_stop(self, bot: PluginBot) -> None:
            bot.start_soon(self.work, name="too late")

        async def work(self) -> None:
            ran.append("ran")

    caplog.set_level(logging.WARNING, logger="agentbot")
    async with running_bot(Late()):
        pass
    assert ran == []
    assert any("too late" in r.getMessage() for r in caplog.records)


async def test_start_soon_needs_a_callable(running_bot: RunningBot) -> None:
    async with running_bot(Plain()) as (bot, _client):
        with pytest.raises(PluginError, match="async function") as raised:
            handle(bot).start_soon(42)  # type: ignore[arg-type]
        assert raised.value.plugin == "p0"


# ---------------------------------------------------------------------------------------------
# now / sleep_until
# ---------------------------------------------------------------------------------------------


async def test_now_and_sleep_until_run_on_the_bot_s_clock(running_bot: RunningBot) -> None:
    clock = VirtualClock(start=100.0)
    woke: list[float] = []

    class Timer:
        @hookimpl
        def on_connected(self, bot: PluginBot) -> None:
            bot.start_soon(self.wait, bot)

        async def wait(self, bot: PluginBot) -> None:
            await bot.sleep_until(bot.now() + 30)
            woke.append(bot.now())

    async with running_bot(Timer(), clock=clock) as (bot, _client):
        assert handle(bot).now() == 100.0
        await clock.wait_sleepers(1)
        assert clock.next_deadline() == 130.0
        await clock.advance(29.5)
        await settle()
        assert woke == []
        await clock.advance(0.5)
        await settle()
        assert woke == [130.0]


async def test_sleep_until_a_past_deadline_returns_at_once(running_bot: RunningBot) -> None:
    clock = VirtualClock(start=10.0)
    async with running_bot(Plain(), clock=clock) as (bot, _client):
        with anyio.fail_after(5):
            await handle(bot).sleep_until(3.0)
        assert clock.now() == 10.0


async def test_sleep_until_nan_is_refused(running_bot: RunningBot) -> None:
    async with running_bot(Plain()) as (bot, _client):
        with pytest.raises(ValueError, match="NaN"):
            await handle(bot).sleep_until(float("nan"))


# ---------------------------------------------------------------------------------------------
# wall_time
# ---------------------------------------------------------------------------------------------

SATURDAY_NIGHT = 1_717_886_400.0  # 2024-06-08 22:40 UTC


async def test_wall_time_comes_from_the_bot_s_wall_clock() -> None:
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.storage import MEMORY, Storage

    from .conftest import make_config
    from .fakes import FakeClient

    clock = VirtualClock()
    client = FakeClient()
    with Storage(MEMORY) as storage:
        bot = Bot(
            make_config(),
            plugins=[("plain", Plain())],
            connect=client.factory(),
            clock=clock,
            wall_clock=lambda: SATURDAY_NIGHT + clock.now(),
            storage=storage,
            entry_points={},
        )
        async with anyio.create_task_group() as tg:
            await tg.start(bot.run)
            assert handle(bot).wall_time() == SATURDAY_NIGHT
            await clock.advance(3600)
            assert handle(bot).wall_time() == SATURDAY_NIGHT + 3600
            bot.stop()


async def test_wall_time_defaults_to_the_system_clock(running_bot: RunningBot) -> None:
    import time

    async with running_bot(Plain()) as (bot, _client):
        before = time.time()
        seen = handle(bot).wall_time()
        assert before <= seen <= time.time()


# ---------------------------------------------------------------------------------------------
# resume
# ---------------------------------------------------------------------------------------------


class HandsOff:
    """Hands the chat off on "human please", answers everything else."""

    @hookimpl
    def on_visitor_message(self, bot: PluginBot, chat_id: str, text: str) -> Reply | None:
        if text == "human please":
            bot.hand_off(chat_id, message="Let me find a colleague.")
            return None
        return Reply(f"bot: {text}")


async def test_resume_lets_the_bot_answer_a_handed_off_chat_again(
    running_bot: RunningBot,
) -> None:
    async with running_bot(HandsOff(), pacing={"time_scale": 0.0}) as (bot, client):
        await client.feed(visitor_message("c1", "human please"))
        await client.wait_calls(3)
        await client.feed(visitor_message("c1", "hello?"))
        await settle()
        assert client.messages() == ["Let me find a colleague."]
        assert bot.chats.is_quiet("c1")
        assert handle(bot).resume("c1") is True
        assert not bot.chats.is_quiet("c1")
        await client.feed(visitor_message("c1", "still there?"))
        await client.wait_calls(6)
        assert client.messages() == ["Let me find a colleague.", "bot: still there?"]


async def test_resume_from_a_timer_when_no_human_came(running_bot: RunningBot) -> None:
    clock = VirtualClock()

    class ComesBack(HandsOff):
        @hookimpl
        def on_visitor_message(self, bot: PluginBot, chat_id: str, text: str) -> Reply | None:
            if text == "human please":
                bot.start_soon(self.come_back, bot, chat_id, bot.now() + 120)
            return super().on_visitor_message(bot, chat_id, text)

        async def come_back(self, bot: PluginBot, chat_id: str, deadline: float) -> None:
            await bot.sleep_until(deadline)
            if bot.resume(chat_id):
                bot.say(chat_id, "Nobody is free; can I take a message?")

    pacing = {"time_scale": 0.0}
    async with running_bot(ComesBack(), clock=clock, pacing=pacing) as (_bot, client):
        await client.feed(visitor_message("c1", "human please"))
        await client.wait_calls(3)
        await clock.advance(119)
        await settle()
        assert client.messages() == ["Let me find a colleague."]
        await clock.advance(1)
        await client.wait_calls(6)
        assert client.messages() == [
            "Let me find a colleague.",
            "Nobody is free; can I take a message?",
        ]


async def test_resume_refuses_unknown_closed_and_human_chats(running_bot: RunningBot) -> None:
    from .fakes import agent_joined, chat_closed, chat_opened

    async with running_bot(HandsOff(), pacing={"time_scale": 0.0}) as (bot, client):
        assert handle(bot).resume("nope") is False
        await client.feed(chat_opened("c1"), chat_closed("c1"))
        await client.feed(chat_opened("c2"), visitor_message("c2", "human please"))
        await client.feed(agent_joined("c2"))
        await settle()
        assert handle(bot).resume("c1") is False
        assert handle(bot).resume("c2") is False
        assert bot.chats.is_quiet("c2")
        await client.feed(chat_opened("c3"))
        await settle()
        assert handle(bot).resume("c3") is True  # never handed off: nothing to undo


# ---------------------------------------------------------------------------------------------
# config_dir
# ---------------------------------------------------------------------------------------------


async def test_config_dir_is_the_folder_of_bot_toml(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    import attrs

    from .conftest import make_config

    config = attrs.evolve(make_config(), path=tmp_path / "bot.toml")
    async with running_bot(Plain(), config=config) as (bot, _client):
        assert handle(bot).config_dir == tmp_path


async def test_config_dir_is_none_for_a_config_from_the_environment(
    running_bot: RunningBot,
) -> None:
    async with running_bot(Plain()) as (bot, _client):
        assert handle(bot).config_dir is None
