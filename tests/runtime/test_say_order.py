"""The order of ``bot.say`` messages and answers on the wire (runtime_requests.md, item 7).

Messages go out in the order of the events that caused them: a greeting said in
``on_chat_opened`` precedes the answer to the visitor's first message, a note said in
``on_visitor_message`` follows that message's answer, and a say from a background task
follows the answers to every message received so far.
"""

from __future__ import annotations

from typing import Any

import anyio

from agentbot import PluginBot, Reply, hookimpl
from agentbot.runtime.clock import VirtualClock

from .conftest import RunningBot
from .fakes import FakeClient, chat_opened, visitor_message

ON = ("typing", "c1", True)
OFF = ("typing", "c1", False)
GREETING = "Hi! How can I help?"


def sent(text: str) -> list[tuple[object, ...]]:
    return [ON, ("message", "c1", text), OFF]


class Greeter:
    """Says a greeting when a chat opens, optionally only once ``gate`` is set."""

    def __init__(self, gate: anyio.Event | None = None) -> None:
        self.gate = gate

    @hookimpl
    async def on_chat_opened(self, bot: PluginBot, chat_id: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        bot.say(chat_id, GREETING)


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}")


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


async def test_greeting_from_chat_opened_goes_before_the_answer_to_the_first_message(
    running_bot: RunningBot,
) -> None:
    async with running_bot(Greeter(), Echo()) as (_bot, client):
        await client.feed(chat_opened("c1"), visitor_message("c1", "hello"))
        await client.wait_calls(6)
        assert client.calls == sent(GREETING) + sent("echo: hello")


async def test_greeting_still_goes_first_when_the_message_arrived_while_it_was_prepared(
    running_bot: RunningBot,
) -> None:
    # The bug: the greeting's say() reached the chat's inbox behind the visitor message, and
    # the answer to that message jumped ahead of it.
    gate = anyio.Event()
    async with running_bot(Greeter(gate), Echo()) as (_bot, client):
        await client.feed(chat_opened("c1"))
        await settle()  # on_chat_opened is waiting at the gate
        await client.feed(visitor_message("c1", "hello"))
        await settle()
        gate.set()
        await client.wait_calls(6)
        assert client.calls == sent(GREETING) + sent("echo: hello")


async def test_an_answer_planned_while_the_greeting_is_typed_waits_its_turn(
    running_bot: RunningBot,
) -> None:
    clock = VirtualClock()
    async with running_bot(Greeter(), Echo(), clock=clock) as (_bot, client):
        await client.feed(chat_opened("c1"))
        await clock.wait_sleepers(1)  # typing the greeting
        greeting_due = clock.next_deadline()
        await clock.advance(0.5)
        await client.feed(visitor_message("c1", "hello"))
        await settle()
        # The greeting keeps its deadline and typing stays on: nothing flickered.
        assert clock.next_deadline() == greeting_due
        assert client.calls == [ON]
        await clock.advance(60)
        await client.wait_calls(6)
        await clock.advance(60)
        await client.wait_calls(6)
        assert client.calls == sent(GREETING) + sent("echo: hello")


async def test_a_say_from_on_visitor_message_follows_that_message_s_answer(
    running_bot: RunningBot,
) -> None:
    class Noting:
        @hookimpl
        def on_visitor_message(self, bot: PluginBot, chat_id: str) -> Reply:
            bot.say(chat_id, "(noted)")
            return Reply("sure")

    async with running_bot(Noting()) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await client.wait_calls(6)
        assert client.calls == sent("sure") + sent("(noted)")


async def test_a_say_from_outside_follows_the_answers_to_messages_already_received(
    running_bot: RunningBot,
) -> None:
    clock = VirtualClock()
    async with running_bot(Echo(), clock=clock) as (bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)  # the answer is being typed
        assert bot.chats.say("c1", "By the way: 20% off today.")
        await clock.advance(60)
        await client.wait_calls(3)
        await clock.advance(60)
        await client.wait_calls(6)
        assert client.calls == sent("echo: hi") + sent("By the way: 20% off today.")


async def test_a_background_task_started_from_a_hook_does_not_say_as_that_old_event(
    running_bot: RunningBot,
) -> None:
    # A task inherits its starter's context; the runtime detaches it, so its say() is placed
    # after the answers to messages that arrived since, not back at the event that started it.
    clock = VirtualClock()
    gate = anyio.Event()

    class Later:
        @hookimpl
        def on_visitor_message(self, bot: PluginBot, chat_id: str, text: str) -> Reply:
            if text == "first":
                bot.start_soon(self.follow_up, bot, chat_id)
            return Reply(f"echo: {text}")

        async def follow_up(self, bot: PluginBot, chat_id: str) -> None:
            await gate.wait()
            bot.say(chat_id, "later")

    client = FakeClient()
    async with running_bot(Later(), clock=clock, client=client) as (_bot, client):
        await client.feed(visitor_message("c1", "first"))
        await clock.wait_sleepers(1)
        await clock.advance(60)
        await client.wait_calls(3)
        await client.feed(visitor_message("c1", "second"))
        await clock.wait_sleepers(1)  # the answer to "second" is being typed
        gate.set()
        await settle()
        for _ in range(3):
            await clock.advance(60)
            await settle()
        await client.wait_calls(9)
        assert client.messages() == ["echo: first", "echo: second", "later"]


async def test_greeting_then_answer_in_the_sandbox_transcript(agentbot_harness: Any) -> None:
    async with agentbot_harness(plugins={"greeter": Greeter(), "echo": Echo()}) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("hello")
        assert (await visitor.next_reply()).text == GREETING
        assert (await visitor.next_reply()).text == "echo: hello"
        assert visitor.messages() == ["visitor: hello", f"bot: {GREETING}", "bot: echo: hello"]
        kinds = [(e.kind, e.is_typing) for e in visitor.transcript() if e.from_bot]
        assert kinds == [
            ("typing", True),
            ("message", None),
            ("typing", False),
            ("typing", True),
            ("message", None),
            ("typing", False),
        ]
