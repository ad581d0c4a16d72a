"""The plugin-test harness (agentbot.testing) tested through the fixture plugin authors use.

Each test runs a real Bot over the real client against the in-process sandbox, on asyncio
and trio. The harness must catch what a plugin author needs caught — silence where a reply
was due, a reply where none was, a plugin that raised — and its recorded durations must be
the pacing model's, exactly, although no test waits for them.
"""

from __future__ import annotations

import datetime
import re
import textwrap
import types
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

import agentbot
from agentbot.errors import ConfigError
from agentbot.runtime.pacing import PacingSettings, plan_reply
from agentbot.testing import (
    BotHarness,
    HarnessFactory,
    HarnessTimeout,
    NoReply,
    PluginFailed,
    UnexpectedReply,
    bot_harness,
)


class Echo:
    @agentbot.hookimpl
    def on_visitor_message(self, text: str) -> agentbot.Reply:
        return agentbot.Reply(f"echo: {text}", confidence=0.5)


class Silent:
    """A plugin that sees every message and never answers."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @agentbot.hookimpl
    def on_visitor_message(self, text: str) -> None:
        self.seen.append(text)


class Raises:
    @agentbot.hookimpl
    def on_visitor_message(self) -> agentbot.Reply:
        raise RuntimeError("plugin bug")


@attrs.frozen(kw_only=True)
class GreeterConfig:
    greeting: str = "Hello"


class Greeter:
    @agentbot.hookimpl
    def register_config(self, register: Callable[[type[Any]], None]) -> None:
        register(GreeterConfig)

    @agentbot.hookimpl
    def on_visitor_message(self, bot: agentbot.PluginBot) -> agentbot.Reply:
        return agentbot.Reply(str(bot.config.greeting))


async def test_next_reply_returns_the_answer_with_its_typing_window(
    agentbot_harness: HarnessFactory,
) -> None:
    async with agentbot_harness(plugins=[Echo()]) as harness:
        visitor = await harness.visitor("Ada", lang="en")
        said = await visitor.say("Hello there")
        reply = await visitor.next_reply()
        assert reply.text == "echo: Hello there"
        assert reply.chat_id == said.chat_id == visitor.chat_id
        assert reply.typing_started_at == said.t
        assert reply.typing_stopped_at == reply.sent_at
        assert reply.typing_seconds > 0
        assert reply.delay_seconds == reply.typing_seconds
        # Virtual time moved exactly as far as the pacing needed, and no further.
        assert harness.now() == reply.sent_at
        assert [(e.kind, e.from_bot, e.text, e.is_typing) for e in visitor.transcript()] == [
            ("event", False, None, None),
            ("message", False, "Hello there", None),
            ("typing", True, None, True),
            ("message", True, "echo: Hello there", None),
            ("typing", True, None, False),
        ]


async def test_recorded_durations_follow_the_pacing_model(agentbot_harness: HarnessFactory) -> None:
    pacing = {"thinking_seconds": 0.8, "typing_chars_per_second": 12.0, "jitter": 0.3}
    async with agentbot_harness(plugins=[Echo()], config={"pacing": pacing}) as harness:
        visitor = await harness.visitor("Ada")
        for text in ("hi", "Do you ship to Germany and Austria?"):
            said = await visitor.say(text)
            reply = await visitor.next_reply()
            (planned,) = plan_reply(text, reply.text, PacingSettings(**pacing), seed=said.id)
            assert reply.typing_seconds == pytest.approx(planned.delay_seconds, abs=1e-9)
            assert 1.0 <= reply.typing_seconds <= 8.0


async def test_a_long_answer_arrives_in_parts_each_with_its_own_typing(
    agentbot_harness: HarnessFactory,
) -> None:
    class Long:
        @agentbot.hookimpl
        def on_visitor_message(self) -> agentbot.Reply:
            return agentbot.Reply("First paragraph here.\n\nSecond paragraph, a bit longer.")

    config = {"pacing": {"max_message_chars": 40}}
    async with agentbot_harness(plugins=[Long()], config=config) as harness:
        visitor = await harness.visitor()
        said = await visitor.say("Tell me everything")
        first = await visitor.next_reply()
        second = await visitor.next_reply()
        planned = plan_reply(
            said.text,
            "First paragraph here.\n\nSecond paragraph, a bit longer.",
            PacingSettings(max_message_chars=40),
            seed=said.id,
        )
        assert [first.text, second.text] == [p.text for p in planned]
        assert first.typing_seconds == pytest.approx(planned[0].delay_seconds, abs=1e-9)
        assert second.typing_seconds == pytest.approx(planned[1].delay_seconds, abs=1e-9)
        assert second.typing_started_at == first.typing_stopped_at
        await visitor.expect_no_reply()


async def test_harness_catches_a_plugin_that_does_not_reply(
    agentbot_harness: HarnessFactory,
) -> None:
    silent = Silent()
    async with agentbot_harness(plugins=[silent]) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("Anyone there?")
        with pytest.raises(NoReply) as caught:
            await visitor.next_reply(within=30)
        assert silent.seen == ["Anyone there?"]  # the plugin ran; it just did not answer
        message = str(caught.value)
        assert "did not reply to Ada within 30 s" in message
        assert "visitor: 'Anyone there?'" in message  # the transcript is attached
        # Waiting for silence is fine, and costs the waited virtual time only.
        before = harness.now()
        await visitor.expect_no_reply(within=10)
        assert harness.now() == before + 10


async def test_expect_no_reply_catches_an_answer(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins=[Echo()]) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("Hello?")
        with pytest.raises(UnexpectedReply) as caught:
            await visitor.expect_no_reply()
        assert caught.value.reply.text == "echo: Hello?"
        assert "where no reply was expected" in str(caught.value)


async def test_a_plugin_that_raises_fails_the_test_when_the_harness_closes() -> None:
    async def conversation() -> None:
        async with bot_harness(plugins=[Raises(), Echo()]) as harness:
            visitor = await harness.visitor()
            await visitor.say("Hello?")
            # The other plugin still answers: one broken plugin never stops the bot.
            assert (await visitor.next_reply()).text == "echo: Hello?"

    with pytest.raises(PluginFailed) as caught:
        await conversation()
    assert "RuntimeError: plugin bug" in str(caught.value)
    assert "raises" in str(caught.value)


async def test_strict_false_lets_a_test_inspect_plugin_failures() -> None:
    async with bot_harness(plugins=[Raises()], strict=False) as harness:
        visitor = await harness.visitor()
        await visitor.say("Hello?")
        await visitor.expect_no_reply()
        assert harness.bot.host.failures == {"raises": 1}
        (line,) = harness.plugin_errors
        assert "plugin raises: on_visitor_message raised" in line


async def test_a_human_joining_mid_typing_silences_the_bot(
    agentbot_harness: HarnessFactory,
) -> None:
    async with agentbot_harness(plugins=[Echo()]) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("Hello?")
        await harness.settle()
        assert visitor.bot_is_typing  # the bot is mid-typing: time has not moved
        assert harness.now() == 0.0
        await harness.human_joins(visitor)
        assert not visitor.bot_is_typing
        await visitor.expect_no_reply()
        await harness.human_says(visitor, "Hi, I am Petra.")
        assert visitor.messages() == ["visitor: Hello?", "agent: Hi, I am Petra."]


async def test_bot_requests_show_the_wire_in_order(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins=[Echo()], eio=4) as harness:
        visitor = await harness.visitor()
        said = await visitor.say("Hi")
        await visitor.next_reply()
        requests = harness.bot_requests(said.chat_id)
        # The message goes over REST (the documented path, VENDOR-SOURCES §3), typing over the
        # socket, in this order.
        assert [r["name"] for r in requests] == [
            "chat.typing",
            "POST /v2/conversations/{id}",
            "chat.typing",
        ]
        assert [r["args"][0]["typing"]["is"] for r in requests if r["name"] == "chat.typing"] == [
            True,
            False,
        ]
        assert harness.bot_requests()[0]["name"] == "agent.connect"
        assert harness.config.smartsupp.eio == 4


async def test_plugins_by_module_name_dict_and_entry_point(
    agentbot_harness: HarnessFactory,
) -> None:
    module = types.ModuleType("shop_hours")
    exec(  # a plugin module, as a file would define it
        textwrap.dedent(
            """
            import agentbot

            @agentbot.hookimpl
            def on_visitor_message(text):
                if "hours" in text:
                    return agentbot.Reply("9-17", confidence=0.9)
                return None
            """
        ),
        module.__dict__,
    )

    class EntryPoint:
        value = "tests:Echo"

        def load(self) -> type[Echo]:
            return Echo

    async with agentbot_harness(
        plugins=[module, "echo_ep", ("named", Silent())],
        entry_points={"echo_ep": EntryPoint()},
    ) as harness:
        assert harness.plugin_names() == ["echo_ep", "shop_hours", "named"]
        visitor = await harness.visitor()
        await visitor.say("your hours?")
        assert (await visitor.next_reply()).text == "9-17"
        await visitor.say("hello")
        assert (await visitor.next_reply()).text == "echo: hello"
        assert isinstance(harness.plugin("named"), Silent)


async def test_plugin_config_from_a_mapping(agentbot_harness: HarnessFactory) -> None:
    config = {"plugins": {"greeter": {"greeting": "Ahoj!"}}}
    async with agentbot_harness(plugins=[Greeter()], config=config) as harness:
        assert harness.plugin_config("greeter") == GreeterConfig(greeting="Ahoj!")
        visitor = await harness.visitor()
        await visitor.say("hi")
        assert (await visitor.next_reply()).text == "Ahoj!"


async def test_a_bad_plugin_option_is_a_config_error_naming_the_key() -> None:
    config = {"plugins": {"greeter": {"greting": "typo"}}}
    with pytest.raises(ConfigError, match=r"\[plugins.greeter\] greting: unknown key"):
        async with bot_harness(plugins=[Greeter()], config=config):
            pass


async def test_bot_toml_is_used_with_the_sandbox_credentials(
    agentbot_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "bot.toml").write_text(
        textwrap.dedent(
            """
            [smartsupp]
            url = "https://websocket.smartsupp.com"
            agent_id = "real-agent"
            key = "real-key"
            eio = 4
            [pacing]
            min_seconds = 2.0
            [plugins.greeter]
            greeting = "From the file"
            """
        ),
        encoding="utf-8",
    )
    async with agentbot_harness(plugins=[Greeter()], config=tmp_path / "bot.toml") as harness:
        assert harness.config.smartsupp.agent_id == harness.bot_id
        assert harness.config.smartsupp.eio == 4
        visitor = await harness.visitor()
        await visitor.say("hi")
        reply = await visitor.next_reply()
        assert reply.text == "From the file"
        assert reply.typing_seconds >= 2.0


async def test_restart_keeps_plugin_storage_and_answered_ids(
    agentbot_harness: HarnessFactory, tmp_path: Path
) -> None:
    class Counter:
        @agentbot.hookimpl
        def on_visitor_message(self, bot: agentbot.PluginBot) -> agentbot.Reply:
            count = bot.storage.get("count", 0) + 1
            bot.storage.set("count", count)
            return agentbot.Reply(f"message #{count}")

    async with agentbot_harness(plugins=[Counter()], storage=tmp_path / "bot.db") as harness:
        visitor = await harness.visitor()
        await visitor.say("one")
        assert (await visitor.next_reply()).text == "message #1"
        await harness.restart()
        await visitor.say("two")
        assert (await visitor.next_reply()).text == "message #2"
        assert harness.plugin_storage("counter").get("count") == 2


async def test_advance_lets_virtual_time_pass(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins=[Echo()]) as harness:
        visitor = await harness.visitor()
        await visitor.say("Hello?")
        await harness.advance(0.5)  # shorter than any paced reply
        assert visitor.bot_is_typing
        assert visitor.replies() == []
        await harness.advance(30)
        (reply,) = visitor.replies()
        assert harness.now() == 30.5
        assert reply.sent_at < 30.5


async def test_a_plugin_that_hangs_past_its_budget_is_reported() -> None:
    class Hangs:
        @agentbot.hookimpl
        async def on_visitor_message(self) -> None:
            await anyio.sleep_forever()

    config = {"runtime": {"hook_timeout_seconds": 0.05}}

    async def conversation() -> None:
        async with bot_harness(plugins=[Hangs()], config=config) as harness:
            visitor = await harness.visitor()
            await visitor.say("Hello?")
            await visitor.expect_no_reply()

    with pytest.raises(PluginFailed, match=re.escape("timeouts {'hangs': 1}")):
        await conversation()


async def test_a_bot_that_never_settles_fails_in_bounded_real_time() -> None:
    class Stuck:
        @agentbot.hookimpl
        async def on_visitor_message(self) -> None:
            await anyio.sleep_forever()

    config = {"runtime": {"hook_timeout_seconds": 30.0}}
    async with bot_harness(plugins=[Stuck()], config=config, wait_seconds=0.2) as harness:
        visitor = await harness.visitor()
        await visitor.say("Hello?")
        with pytest.raises(HarnessTimeout, match=re.escape("settling took more than 0.2 s")):
            await visitor.next_reply()


async def test_an_assertion_in_the_block_is_not_wrapped() -> None:
    with pytest.raises(AssertionError, match=r"^mine$"):
        async with bot_harness(plugins=[Echo()]):
            raise AssertionError("mine")


@pytest.fixture
async def echo_bot(agentbot_harness: HarnessFactory) -> AsyncIterator[BotHarness]:
    async with agentbot_harness(plugins=[Echo()]) as harness:
        yield harness


async def test_the_harness_works_as_an_async_fixture(echo_bot: BotHarness) -> None:
    first = await echo_bot.visitor("Ada")
    second = await echo_bot.visitor("Bob")
    await first.say("one")
    await second.say("two")
    assert (await second.next_reply()).text == "echo: two"
    assert (await first.next_reply()).text == "echo: one"
    assert first.chat_id != second.chat_id


async def test_the_harness_waits_for_a_plugin_doing_real_work(
    agentbot_harness: HarnessFactory,
) -> None:
    class Thinks:
        """Answers after real work in a worker thread: not asleep on the virtual clock."""

        @agentbot.hookimpl
        async def on_visitor_message(self, text: str) -> agentbot.Reply:
            total = await anyio.to_thread.run_sync(lambda: sum(range(300_000)))
            return agentbot.Reply(f"{text}: {total}")

    async with agentbot_harness(plugins=[Thinks()]) as harness:
        visitor = await harness.visitor()
        await visitor.say("sum")
        assert (await visitor.next_reply()).text == f"sum: {sum(range(300_000))}"


class Queued:
    """A hook queues the chat; a background task answers, woken by an event (no deadline)."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.changed = anyio.Event()
        self.rounds = 0

    @agentbot.hookimpl
    def on_start(self, bot: agentbot.PluginBot) -> None:
        bot.start_soon(self.work, bot, name="queue")

    @agentbot.hookimpl
    def on_visitor_message(self, chat_id: str) -> None:
        self.queue.append(chat_id)
        self.changed.set()

    async def work(self, bot: agentbot.PluginBot) -> None:
        while True:
            self.rounds += 1
            woken = self.changed
            while self.queue:
                bot.say(self.queue.pop(0), "queued for you")
            # The runtime's wait: parked on its clock, so the harness sees an idle task.
            assert await bot.wait_for(woken)
            self.changed = anyio.Event()


async def test_a_background_task_waiting_on_bot_wait_for_lets_the_harness_settle(
    agentbot_harness: HarnessFactory,
) -> None:
    plugin = Queued()
    async with agentbot_harness(plugins=[plugin]) as harness:
        await harness.settle()  # the idle task waits without a deadline: settled
        assert harness.bot.background_tasks == 1
        assert harness.clock.sleeper_count >= 1
        visitor = await harness.visitor()
        await visitor.say("hi")
        assert (await visitor.next_reply()).text == "queued for you"
        await visitor.say("again")
        assert (await visitor.next_reply()).text == "queued for you"
        await visitor.expect_no_reply()
    assert plugin.rounds == 3


async def test_bot_wait_for_returns_false_at_its_deadline(
    agentbot_harness: HarnessFactory,
) -> None:
    results: list[tuple[bool, float]] = []

    class Times:
        @agentbot.hookimpl
        def on_start(self, bot: agentbot.PluginBot) -> None:
            bot.start_soon(self.work, bot)

        async def work(self, bot: agentbot.PluginBot) -> None:
            never = anyio.Event()
            results.append((await bot.wait_for(never, deadline=bot.now() + 90), bot.now()))
            done = anyio.Event()
            done.set()
            results.append((await bot.wait_for(done, deadline=bot.now() + 90), bot.now()))

    async with agentbot_harness(plugins=[Times()]) as harness:
        start = harness.now()
        await harness.advance(89)
        assert results == []
        await harness.advance(1)
    assert results == [(False, start + 90), (True, start + 90)]


async def test_a_background_task_blocked_outside_the_runtime_never_settles() -> None:
    class Blocked:
        @agentbot.hookimpl
        def on_start(self, bot: agentbot.PluginBot) -> None:
            bot.start_soon(anyio.Event().wait)  # not bot.wait_for: the harness cannot tell

    with pytest.raises(HarnessTimeout, match="plugin background tasks: 1, clock sleepers: 0"):
        async with bot_harness(plugins=[Blocked()], wait_seconds=0.2):
            pass


async def test_a_dropped_link_and_a_server_error_reach_the_plugins(
    agentbot_harness: HarnessFactory,
) -> None:
    class Listens:
        def __init__(self) -> None:
            self.calls: list[str] = []

        @agentbot.hookimpl
        def on_connected(self, reconnect: bool) -> None:
            self.calls.append(f"connected reconnect={reconnect}")

        @agentbot.hookimpl
        def on_disconnected(self) -> None:
            self.calls.append("disconnected")

        @agentbot.hookimpl
        def on_server_error(self, error: agentbot.ApiError) -> None:
            self.calls.append(f"server error {error.type}")

    listens = Listens()
    async with agentbot_harness(plugins=[listens, Echo()]) as harness:
        await harness.drop_connection()
        await harness.server_error("slow down", type="rate_limited")
        visitor = await harness.visitor()
        await visitor.say("still there?")
        assert (await visitor.next_reply()).text == "echo: still there?"
        assert len({r["connId"] for r in harness.bot_requests() if "connId" in r}) == 2
    assert listens.calls == [
        "connected reconnect=False",
        "disconnected",
        "connected reconnect=True",
        "server error rate_limited",
    ]


async def test_wall_time_starts_where_the_test_says_and_moves_with_virtual_time(
    agentbot_harness: HarnessFactory,
) -> None:
    start = datetime.datetime(2024, 6, 1, 22, 0, tzinfo=datetime.UTC)
    async with agentbot_harness(plugins=[Echo()], wall_time=start) as harness:
        assert harness.wall_time() == start.timestamp()
        await harness.advance(90)
        assert harness.wall_time() == start.timestamp() + 90
        visitor = await harness.visitor()
        said = await visitor.say("hi")
        (message,) = harness.control.chat(said.chat_id)["chat"]["messages"]
        assert message["createdAt"].startswith("2024-06-01T22:01:30")
