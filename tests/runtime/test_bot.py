"""The Bot against an in-memory client: what goes on the wire, in which order, and when.

Every wait is on the virtual clock or on the fake client's "something was sent" event.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from agentbot import hookimpl
from agentbot.api import ChatTyping, ChatVisitorTyping, Typing
from agentbot.runtime.actors import MAX_UNKNOWN_ATTEMPTS
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.pacing import PacingSettings, plan_reply, reading_delay
from agentbot.runtime.replies import Reply
from agentbot.runtime.storage import Storage

from .conftest import RunningBot, make_config
from .fakes import (
    BOT_ID,
    HUMAN_ID,
    FakeClient,
    agent_joined,
    agent_message,
    chat_closed,
    chat_opened,
    visitor_message,
)

TYPING_ON = ("typing", "c1", True)
TYPING_OFF = ("typing", "c1", False)


class Echo:
    """Answers every visitor message."""

    def __init__(self, prefix: str = "echo: ", confidence: float = 0.5) -> None:
        self.prefix = prefix
        self.confidence = confidence
        self.seen: list[str] = []

    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        self.seen.append(text)
        return Reply(f"{self.prefix}{text}", confidence=self.confidence)


async def reply_round(client: FakeClient, chat_id: str, text: str) -> None:
    """Send a visitor message and wait for the full reply sequence to it."""
    before = len(client.calls)
    await client.feed(visitor_message(chat_id, text))
    await client.wait_for(
        lambda calls: (
            ("typing", chat_id, False) in calls[before:]
            and any(c[0] == "message" for c in calls[before:])
        )
    )


async def test_reply_is_wrapped_in_typing_true_and_false(running_bot: RunningBot) -> None:
    async with running_bot(Echo()) as (_bot, client):
        await client.feed(visitor_message("c1", "hello"))
        await client.wait_calls(3)
        assert client.calls == [TYPING_ON, ("message", "c1", "echo: hello"), TYPING_OFF]
        typing = [r for r in client.wire if isinstance(r, ChatTyping)]
        assert {(r.chat_id, r.visitor_id) for r in typing} == {("c1", "v1")}


async def test_delay_before_the_message_follows_the_pacing_model(running_bot: RunningBot) -> None:
    clock = VirtualClock(autojump=True)
    async with running_bot(Echo(), clock=clock) as (bot, client):
        event = visitor_message("c1", "Do you ship to Germany?")
        await client.feed(event)
        await client.wait_calls(3)
        (planned,) = plan_reply(
            "Do you ship to Germany?",
            "echo: Do you ship to Germany?",
            bot.config.pacing,
            seed=event.message.id,
        )
    assert clock.sleeps[0] == pytest.approx(planned.delay_seconds)
    assert 1.0 <= planned.delay_seconds <= 6.0


async def test_typing_stays_on_during_the_paced_wait(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        assert client.calls == [TYPING_ON]
        await clock.advance(0.5)
        assert client.calls == [TYPING_ON]
        await clock.advance(10)
        await client.wait_calls(3)
        assert client.calls[1:] == [("message", "c1", "echo: hi"), TYPING_OFF]


async def test_own_echoed_message_is_never_answered(running_bot: RunningBot) -> None:
    echo = Echo()
    async with running_bot(echo) as (_bot, client):
        await reply_round(client, "c1", "one")
        await reply_round(client, "c1", "two")
    # The fake server echoes each bot message back (subType agent, the bot's agent id).
    assert echo.seen == ["one", "two"]
    assert client.messages() == ["echo: one", "echo: two"]


async def test_same_message_delivered_twice_gets_one_reply(running_bot: RunningBot) -> None:
    async with running_bot(Echo()) as (bot, client):
        event = visitor_message("c1", "hello", message_id="m-dup")
        await client.feed(event, event)
        await client.wait_calls(3)
        await reply_round(client, "c1", "barrier")
        assert client.messages() == ["echo: hello", "echo: barrier"]
        assert bot.stats["duplicates"] == 1


async def test_answered_ids_survive_a_restart(running_bot: RunningBot, tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    event = visitor_message("c1", "hello", message_id="m-restart")
    with Storage(path) as storage:
        async with running_bot(Echo(), storage=storage) as (_bot, client):
            await client.feed(event)
            await client.wait_calls(3)
    with Storage(path) as storage:
        async with running_bot(Echo(), storage=storage) as (_bot, client):
            await client.feed(event)
            await reply_round(client, "c1", "after restart")
            assert client.messages() == ["echo: after restart"]


async def test_human_joining_mid_typing_cancels_the_reply(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (bot, client):
        await client.feed(chat_opened("c1"), visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        await client.feed(agent_joined("c1"))
        await client.wait_calls(2)
        await clock.advance(60)
        await client.feed(visitor_message("c1", "anyone?"))
        await anyio.wait_all_tasks_blocked()
        assert client.calls == [TYPING_ON, TYPING_OFF]
        assert bot.chats.is_quiet("c1")


async def test_human_writing_in_the_chat_silences_the_bot(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        await client.feed(agent_message("c1", "Hi, Ann here", agent_id=HUMAN_ID))
        await client.wait_calls(2)
        assert client.calls == [TYPING_ON, TYPING_OFF]


async def test_human_assigned_at_open_keeps_the_bot_quiet(running_bot: RunningBot) -> None:
    async with running_bot(Echo()) as (_bot, client):
        await client.feed(chat_opened("c1", assigned=(HUMAN_ID,)), visitor_message("c1", "hi"))
        await reply_round(client, "c2", "barrier")
        assert client.messages() == ["echo: barrier"]


async def test_bot_assigned_itself_is_not_a_human(running_bot: RunningBot) -> None:
    async with running_bot(Echo()) as (_bot, client):
        await client.feed(chat_opened("c1", assigned=(BOT_ID,)), agent_joined("c1", BOT_ID))
        await reply_round(client, "c1", "hi")
        assert client.messages() == ["echo: hi"]


async def test_human_first_can_be_turned_off(running_bot: RunningBot) -> None:
    async with running_bot(Echo(), runtime={"human_first": False}) as (_bot, client):
        await client.feed(agent_joined("c1"))
        await reply_round(client, "c1", "hi")
        assert client.messages() == ["echo: hi"]


async def test_bot_answers_again_after_the_human_left_when_configured(
    running_bot: RunningBot,
) -> None:
    from agentbot.api import Agent, AgentLeft

    async with running_bot(Echo(), runtime={"resume_after_human_leaves": True}) as (_bot, client):
        await client.feed(agent_joined("c1"), visitor_message("c1", "ignored"))
        await client.feed(AgentLeft(chat_id="c1", agent=Agent(id=HUMAN_ID)))
        await reply_round(client, "c1", "back")
        assert client.messages() == ["echo: back"]


async def test_chat_closed_mid_typing_cancels_and_stays_closed(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        await client.feed(chat_closed("c1"))
        await client.wait_calls(2)
        await client.feed(visitor_message("c1", "late"))
        await anyio.wait_all_tasks_blocked()
        await clock.advance(60)
        assert client.calls == [TYPING_ON, TYPING_OFF]


async def test_new_message_while_typing_replaces_the_stale_answer(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (bot, client):
        await client.feed(visitor_message("c1", "first"))
        await clock.wait_sleepers(1)
        await clock.advance(0.5)
        second = visitor_message("c1", "second")
        await client.feed(second)
        await anyio.wait_all_tasks_blocked()
        # Re-planned from now: the full delay for the new answer, typing never flickered.
        (planned,) = plan_reply("second", "echo: second", bot.config.pacing, seed=second.message.id)
        assert clock.next_deadline() == pytest.approx(0.5 + planned.delay_seconds)
        await clock.advance(60)
        await client.wait_calls(3)
        assert client.calls == [TYPING_ON, ("message", "c1", "echo: second"), TYPING_OFF]
        assert bot.stats["replanned"] == 1


async def test_new_message_without_an_answer_delays_the_pending_one(
    running_bot: RunningBot,
) -> None:
    class OnlyQuestions:
        @hookimpl
        def on_visitor_message(self, text: str) -> Reply | None:
            return Reply("answer") if text.endswith("?") else None

    clock = VirtualClock()
    async with running_bot(OnlyQuestions(), clock=clock) as (bot, client):
        question = visitor_message("c1", "Do you ship?")
        await client.feed(question)
        await clock.wait_sleepers(1)
        first_deadline = clock.next_deadline()
        assert first_deadline is not None
        thanks = visitor_message("c1", "thanks in advance")
        await client.feed(thanks)
        await anyio.wait_all_tasks_blocked()
        extra = reading_delay("thanks in advance", bot.config.pacing, seed=thanks.message.id)
        assert clock.next_deadline() == pytest.approx(first_deadline + extra)
        await clock.advance(60)
        await client.wait_calls(3)
        assert client.calls == [TYPING_ON, ("message", "c1", "answer"), TYPING_OFF]


async def test_visitor_typing_does_not_reset_the_pending_reply(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        deadline = clock.next_deadline()
        typing = ChatVisitorTyping(chat_id="c1", visitor_id="v1", typing=Typing(is_typing=True))
        await client.feed(typing)
        await anyio.wait_all_tasks_blocked()
        assert clock.next_deadline() == deadline
        assert client.calls == [TYPING_ON]


async def test_replies_in_one_chat_keep_order_while_chats_run_concurrently(
    running_bot: RunningBot,
) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock, pacing={"jitter": 0.0}) as (_bot, client):
        await client.feed(visitor_message("a", "x" * 90), visitor_message("b", "y"))
        await clock.wait_sleepers(2)  # both chats typing at once
        assert sorted(client.calls) == [("typing", "a", True), ("typing", "b", True)]
        await clock.advance(60)
        await client.wait_calls(6)
        # The short answer in b went out before the long one in a.
        assert client.messages() == ["echo: y", "echo: " + "x" * 90]


async def test_long_reply_is_sent_as_several_messages_each_with_typing(
    running_bot: RunningBot,
) -> None:
    class Long:
        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("First part of the answer.\n\nSecond part of the answer.")

    async with running_bot(Long(), pacing={"max_message_chars": 30}) as (_bot, client):
        await client.feed(visitor_message("c1", "tell me"))
        await client.wait_calls(6)
        assert client.calls == [
            TYPING_ON,
            ("message", "c1", "First part of the answer."),
            TYPING_OFF,
            TYPING_ON,
            ("message", "c1", "Second part of the answer."),
            TYPING_OFF,
        ]


async def test_best_candidate_wins_then_plugin_order(running_bot: RunningBot) -> None:
    async with running_bot(Echo("low: ", 0.2), Echo("first: ", 0.8), Echo("second: ", 0.8)) as (
        _bot,
        client,
    ):
        await reply_round(client, "c1", "q")
        assert client.messages() == ["first: q"]


async def test_min_confidence_filters_candidates(running_bot: RunningBot) -> None:
    async with running_bot(Echo("low: ", 0.2), runtime={"min_confidence": 0.5}) as (_bot, client):
        await client.feed(visitor_message("c1", "q"))
        await anyio.wait_all_tasks_blocked()
        assert client.calls == []


async def test_loop_guard_caps_messages_per_chat_per_minute(running_bot: RunningBot) -> None:
    clock = VirtualClock(autojump=True)
    runtime = {"max_replies_per_chat_per_minute": 3}
    async with running_bot(Echo(), clock=clock, runtime=runtime, pacing={"time_scale": 0.0}) as (
        bot,
        client,
    ):
        for index in range(5):
            await client.feed(visitor_message("c1", f"m{index}"))
            await anyio.wait_all_tasks_blocked()
        assert client.messages() == ["echo: m0", "echo: m1", "echo: m2"]
        assert bot.stats["loop_guard"] == 2
        assert client.calls[-1] == TYPING_OFF
        await clock.sleep(61)  # a minute later the chat may be answered again
        await reply_round(client, "c1", "later")


async def test_global_rate_limit_spaces_out_messages(running_bot: RunningBot) -> None:
    clock = VirtualClock(autojump=True)
    runtime = {"max_messages_per_second": 2.0, "message_burst": 1}
    async with running_bot(Echo(), clock=clock, runtime=runtime, pacing={"time_scale": 0.0}) as (
        _bot,
        client,
    ):
        await client.feed(*(visitor_message(f"c{i}", "hi") for i in range(3)))
        await client.wait_for(lambda calls: sum(c[0] == "message" for c in calls) == 3)
    assert sorted(clock.sleeps)[-2:] == pytest.approx([0.5, 0.5])


async def test_unacknowledged_send_is_retried_a_bounded_number_of_times_then_typing_off(
    running_bot: RunningBot,
) -> None:
    # No REST history to ask and no echo: the outcome stays unknown, so the message is tried
    # again (a reply must not be lost), a bounded number of times, and typing still ends.
    client = FakeClient()
    client.fail_messages = True
    async with running_bot(Echo(), client=client) as (bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await client.wait_calls(MAX_UNKNOWN_ATTEMPTS + 2)
        message = ("message", "c1", "echo: hi")
        assert client.calls == [TYPING_ON, *[message] * MAX_UNKNOWN_ATTEMPTS, TYPING_OFF]
        assert bot.stats["send_unknown"] == MAX_UNKNOWN_ATTEMPTS
        assert bot.ledger.depth() == 0  # given up: not left to be resent after a restart


async def test_stop_mid_typing_sends_typing_false_and_no_message(running_bot: RunningBot) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        bot.stop()
        await client.wait_calls(2)
    assert client.calls == [TYPING_ON, TYPING_OFF]
    assert client.closed


async def test_cancelling_the_bot_mid_typing_still_sends_typing_false() -> None:
    client = FakeClient()
    clock = VirtualClock()
    from agentbot.runtime.bot import Bot

    bot = Bot(
        make_config(runtime={"storage_path": None}),
        plugins=[("echo", Echo())],
        connect=client.factory(),
        clock=clock,
        storage=Storage(":memory:"),
        entry_points={},
    )
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        tg.cancel_scope.cancel()
    assert client.calls == [TYPING_ON, TYPING_OFF]


async def test_logout_ends_the_run_with_its_reason(running_bot: RunningBot) -> None:
    client = FakeClient()
    bot_seen = None
    async with running_bot(Echo(), client=client) as (bot, client):
        bot_seen = bot
        client.end("logout")
        with anyio.fail_after(5):
            while not bot.stopping:
                await anyio.wait_all_tasks_blocked()
    assert bot_seen is not None
    assert bot_seen.closed_reason == "logout"


async def test_track_visitors_from_config_and_changed_by_a_plugin(running_bot: RunningBot) -> None:
    class Tracker:
        @hookimpl
        def on_connected(self, bot: object, reconnect: bool) -> None:
            bot.track_visitors = True  # type: ignore[attr-defined]

    config = make_config(track_visitors=False)
    async with running_bot(Tracker(), config=config) as (bot, client):
        await client.feed(visitor_message("c1", "sync"))
        await anyio.wait_all_tasks_blocked()
        assert bot.track_visitors is True
        assert client.track_visitors_calls == [True]


async def test_say_and_hand_off_from_a_plugin(running_bot: RunningBot) -> None:
    class Handoff:
        @hookimpl
        def on_visitor_message(self, bot: object, chat_id: str, text: str) -> Reply | None:
            if text == "human please":
                bot.hand_off(chat_id, message="A colleague will take over.")  # type: ignore[attr-defined]
                return None
            bot.say(chat_id, "(noted)")  # type: ignore[attr-defined]
            return Reply("sure")

    async with running_bot(Handoff(), pacing={"time_scale": 0.0}) as (bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await client.wait_for(lambda calls: calls.count(TYPING_OFF) == 2)
        assert client.messages() == ["sure", "(noted)"]
        await client.feed(visitor_message("c1", "human please"))
        await client.wait_for(lambda calls: calls.count(TYPING_OFF) == 3)
        assert client.messages()[-1] == "A colleague will take over."
        assert bot.chats.is_quiet("c1")
        await client.feed(visitor_message("c1", "hello?"))
        await anyio.wait_all_tasks_blocked()
        assert len(client.messages()) == 3


async def test_humans_online_comes_from_the_session_and_agent_events(
    running_bot: RunningBot,
) -> None:
    from agentbot.api import AgentConnected, AgentDisconnected

    async with running_bot(Echo()) as (bot, client):
        assert bot.humans_online() == ()
        await client.feed(AgentConnected(id=HUMAN_ID))
        await anyio.wait_all_tasks_blocked()
        assert bot.humans_online() == (HUMAN_ID,)
        await client.feed(AgentDisconnected(id=HUMAN_ID))
        await anyio.wait_all_tasks_blocked()
        assert bot.humans_online() == ()


def test_pacing_settings_reach_the_bot() -> None:
    config = make_config(pacing={"time_scale": 0.25})
    assert config.pacing == PacingSettings(time_scale=0.25)


class StalledTypingOff(FakeClient):
    """The first ``chat.typing false`` waits as if the link were down, until cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = anyio.Event()

    async def send(self, req: object) -> None:
        if isinstance(req, ChatTyping) and not req.is_typing and not self.stalled.is_set():
            self.stalled.set()
            await anyio.sleep_forever()
        await super().send(req)  # type: ignore[arg-type]


async def test_typing_false_cut_short_by_shutdown_is_sent_again_on_the_way_out(
    running_bot: RunningBot,
) -> None:
    client = StalledTypingOff()
    async with running_bot(Echo(), client=client) as (bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await client.stalled.wait()  # message sent; typing false hangs on a dead link
        bot.stop()
        await client.wait_calls(3)
    assert client.calls == [TYPING_ON, ("message", "c1", "echo: hi"), TYPING_OFF]
