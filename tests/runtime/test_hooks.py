"""One test per hook (test_hook_<name>): when it is called, with what, and what its result does.

``test_every_hook_has_a_test_and_reference_docs`` keeps this file and hookspecs.py in step.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import anyio
import attrs
import pytest

from agentbot import PluginBot, Reply, hookimpl
from agentbot.api import (
    Agent,
    AgentAssigned,
    AgentLeft,
    ChatRated,
    ChatVisitorTyping,
    Rating,
    ServerErrorEvent,
    Typing,
    Visitor,
    VisitorConnected,
    VisitorUpdated,
)
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.errors import AuthFailure
from agentbot.runtime import hookspecs
from agentbot.runtime.plugins import HOOK_NAMES

from .conftest import RunningBot
from .fakes import (
    BOT_ID,
    HUMAN_ID,
    agent_joined,
    chat_closed,
    chat_opened,
    make_session,
    visitor_message,
)
from .test_hook_register_commands import test_hook_register_commands  # noqa: F401


class Recorder:
    """Implements every hook, half of them async, and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def named(self, hook: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == hook]

    @hookimpl
    def on_start(self, bot: PluginBot) -> None:
        self.calls.append(("on_start", {"bot": bot}))

    @hookimpl
    async def on_stop(self, bot: PluginBot) -> None:
        self.calls.append(("on_stop", {"bot": bot}))

    @hookimpl
    async def on_connected(self, session: Any, reconnect: bool) -> None:
        self.calls.append(("on_connected", {"session": session, "reconnect": reconnect}))

    @hookimpl
    def on_disconnected(self, reason: str) -> None:
        self.calls.append(("on_disconnected", {"reason": reason}))

    @hookimpl
    def on_event(self, event: Any, chat_id: str | None) -> None:
        self.calls.append(("on_event", {"event": event, "chat_id": chat_id}))

    @hookimpl
    async def on_chat_opened(self, chat_id: str, chat: Any) -> None:
        self.calls.append(("on_chat_opened", {"chat_id": chat_id, "chat": chat}))

    @hookimpl
    def on_chat_closed(self, chat_id: str, close_type: str | None) -> None:
        self.calls.append(("on_chat_closed", {"chat_id": chat_id, "close_type": close_type}))

    @hookimpl
    async def on_visitor_message(self, chat_id: str, message: Any, text: str, event: Any) -> Reply:
        self.calls.append(
            ("on_visitor_message", {"chat_id": chat_id, "message": message, "text": text})
        )
        return Reply(f"re: {text}")

    @hookimpl
    async def on_reply_chosen(
        self, chat_id: str, message: Any, text: str, reply: Reply | None, plugin: str | None
    ) -> None:
        arguments = {"chat_id": chat_id, "message": message, "text": text, "reply": reply}
        self.calls.append(("on_reply_chosen", {**arguments, "plugin": plugin}))

    @hookimpl
    def on_visitor_typing(self, chat_id: str, is_typing: bool) -> None:
        self.calls.append(("on_visitor_typing", {"chat_id": chat_id, "is_typing": is_typing}))

    @hookimpl
    def on_chat_rated(self, chat_id: str, rating: Rating) -> None:
        self.calls.append(("on_chat_rated", {"chat_id": chat_id, "rating": rating}))

    @hookimpl
    async def on_agent_joined(self, chat_id: str, agent: Agent) -> None:
        self.calls.append(("on_agent_joined", {"chat_id": chat_id, "agent": agent}))

    @hookimpl
    def on_agent_left(self, chat_id: str, agent: Agent) -> None:
        self.calls.append(("on_agent_left", {"chat_id": chat_id, "agent": agent}))

    @hookimpl
    def on_agent_assigned(self, chat_id: str, agent_ids: tuple[str, ...]) -> None:
        self.calls.append(("on_agent_assigned", {"chat_id": chat_id, "agent_ids": agent_ids}))

    @hookimpl
    async def on_visitor_connected(self, visitor: Visitor) -> None:
        self.calls.append(("on_visitor_connected", {"visitor": visitor}))

    @hookimpl
    def on_visitor_updated(self, visitor_id: str, changes: Any) -> None:
        self.calls.append(("on_visitor_updated", {"visitor_id": visitor_id, "changes": changes}))

    @hookimpl
    def on_server_error(self, error: Exception, event: Any) -> None:
        self.calls.append(("on_server_error", {"error": error, "event": event}))


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


def test_every_hook_has_a_test_and_reference_docs() -> None:
    module = sys.modules[__name__]
    for name in HOOK_NAMES:
        assert callable(getattr(module, f"test_hook_{name}", None)), f"missing test_hook_{name}"
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc.splitlines()) >= 3, f"{name}: the docstring is its reference documentation"
        assert "ync" in doc, f"{name}: say whether a coroutine implementation is allowed"
        assert "alled" in doc, f"{name}: say when and how often it is called"
        for parameter in inspect.signature(getattr(hookspecs, name)).parameters:
            assert f"- ``{parameter}``:" in doc, f"{name}: document parameter {parameter}"
    assert "firstresult" in (hookspecs.__doc__ or "")


# register_commands runs when the CLI starts, before any bot exists (llm's pattern).
HOOKS_WITHOUT_BOT = {"register_commands"}


def test_every_hook_receives_bot() -> None:
    for name in HOOK_NAMES:
        if name in HOOKS_WITHOUT_BOT:
            continue
        assert "bot" in inspect.signature(getattr(hookspecs, name)).parameters, name


async def test_hook_register_config(running_bot: RunningBot) -> None:
    # Validation errors are covered by test_plugins.py; here: the instance reaches bot.config.
    @attrs.frozen(kw_only=True)
    class Options:
        greeting: str = "Hi"

    seen: list[Any] = []

    class WithConfig:
        @hookimpl
        def register_config(self, register: Any, bot: PluginBot) -> None:
            seen.append(bot.config)
            register(Options)

        @hookimpl
        def on_start(self, bot: PluginBot) -> None:
            seen.append(bot.config)

    async with running_bot(WithConfig()):
        pass
    assert seen == [None, Options()]


async def test_hook_on_check(running_bot: RunningBot) -> None:
    # `agentbot check` calls it and fails with every plugin's problem; `run` never calls it.
    from agentbot.errors import ConfigError, PluginError
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.storage import MEMORY, Storage

    from .conftest import make_config

    checked: list[str] = []

    class Fine:
        @hookimpl
        def on_check(self, bot: PluginBot) -> None:
            checked.append(bot.name)

    class Broken:
        @hookimpl
        async def on_check(self) -> None:
            raise ConfigError("faq.toml is missing")

    class Crashing:
        @hookimpl
        def on_check(self) -> None:
            raise ValueError("boom")

    plugins = [("fine", Fine()), ("broken", Broken()), ("crashing", Crashing())]
    with Storage(MEMORY) as storage:
        bot = Bot(make_config(), plugins=plugins, storage=storage, entry_points={})
        bot.prepare()
        with pytest.raises(PluginError) as caught:
            await bot.host.check(bot.handle_for)
    assert str(caught.value).splitlines() == [
        "plugin broken: faq.toml is missing",
        "plugin crashing: on_check raised ValueError('boom')",
    ]
    assert caught.value.plugin == "broken"
    assert checked == ["fine"]
    async with running_bot(Fine()):
        pass
    assert checked == ["fine"]


async def test_hook_on_start(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder):
        assert recorder.calls[0][0] == "on_start"
        assert recorder.calls[0][1]["bot"].name == "p0"


async def test_hook_on_stop(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder):
        assert recorder.named("on_stop") == []
    assert recorder.calls[-1][0] == "on_stop"


async def test_hook_on_connected(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await settle()
        first = recorder.named("on_connected")
        assert [c["reconnect"] for c in first] == [False]
        assert first[0]["session"].agent.id == BOT_ID
        new_session = make_session(humans_online=True)
        await client.feed(Reconnected(attempt=2, downtime_seconds=1.5, session=new_session))
        await settle()
        assert recorder.named("on_connected")[1] == {"session": new_session, "reconnect": True}


async def test_hook_on_disconnected(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(ConnectionDropped(reason="ping timeout"))
        await settle()
        assert recorder.named("on_disconnected") == [{"reason": "ping timeout"}]


async def test_hook_on_event(running_bot: RunningBot) -> None:
    recorder = Recorder()
    events = [chat_opened("c1"), visitor_message("c1", "hi"), ServerErrorEvent(message="boom")]
    async with running_bot(recorder) as (_bot, client):
        await client.feed(*events)
        await client.wait_calls(3)
        await settle()
        seen = recorder.named("on_event")
        # Every event, the bot's own echoed message included, with the chat it belongs to; in
        # arrival order per chat (account-wide events run in their own actor, concurrently).
        in_chat = [c["event"] for c in seen if c["chat_id"] == "c1"]
        assert in_chat[:2] == events[:2]
        assert ("c1", "chat.message_received") in {
            (c["chat_id"], c["event"].name) for c in seen[2:]
        }
        assert any(c["event"] == events[2] and c["chat_id"] is None for c in seen)


async def test_hook_on_chat_opened(running_bot: RunningBot) -> None:
    recorder = Recorder()
    event = chat_opened("c9", visitor_id="v9")
    async with running_bot(recorder) as (_bot, client):
        await client.feed(event)
        await settle()
        assert recorder.named("on_chat_opened") == [{"chat_id": "c9", "chat": event.chat}]


async def test_hook_on_chat_closed(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(chat_opened("c1"), chat_closed("c1"))
        await settle()
        assert recorder.named("on_chat_closed") == [
            {"chat_id": "c1", "close_type": "visitor_close"}
        ]


async def test_hook_on_visitor_message(running_bot: RunningBot) -> None:
    recorder = Recorder()
    event = visitor_message("c1", "opening hours?")
    async with running_bot(recorder) as (_bot, client):
        await client.feed(event)
        await client.wait_calls(3)
        await settle()
        assert recorder.named("on_visitor_message") == [
            {"chat_id": "c1", "message": event.message, "text": "opening hours?"}
        ]
        # Not called for the bot's own echoed reply.
        assert client.messages() == ["re: opening hours?"]


async def test_hook_on_reply_chosen(running_bot: RunningBot) -> None:
    class Unsure:
        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("maybe", confidence=0.3)

    recorder = Recorder()  # answers "re: <text>" with confidence 1.0: it wins
    event = visitor_message("c1", "opening hours?")
    async with running_bot(recorder, named={"unsure": Unsure()}) as (_bot, client):
        await client.feed(event)
        await client.wait_calls(3)
        await settle()
        assert recorder.named("on_reply_chosen") == [
            {
                "chat_id": "c1",
                "message": event.message,
                "text": "opening hours?",
                "reply": Reply("re: opening hours?"),
                "plugin": "p0",
            }
        ]
        # Called before the answer is planned, once per message; not for the bot's echo.
        names = [name for name, _ in recorder.calls]
        assert names.index("on_visitor_message") < names.index("on_reply_chosen")
        assert client.messages() == ["re: opening hours?"]


async def test_on_reply_chosen_says_none_when_nothing_qualifies(running_bot: RunningBot) -> None:
    seen: list[tuple[Reply | None, str | None]] = []

    class Unsure:
        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("maybe", confidence=0.3)

        @hookimpl
        def on_reply_chosen(self, reply: Reply | None, plugin: str | None) -> None:
            seen.append((reply, plugin))

    class Silent:
        @hookimpl
        def on_reply_chosen(self, reply: Reply | None, plugin: str | None) -> None:
            seen.append((reply, plugin))

    async with running_bot(Unsure(), Silent(), runtime={"min_confidence": 0.5}) as (_bot, client):
        await client.feed(visitor_message("c1", "what?"))
        await settle()
        assert seen == [(None, None), (None, None)]
        assert client.calls == []


async def test_hand_off_from_on_reply_chosen_drops_the_chosen_answer(
    running_bot: RunningBot,
) -> None:
    class Streak:
        def __init__(self) -> None:
            self.weak = 0

        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("not sure", confidence=0.2)

        @hookimpl
        def on_reply_chosen(self, bot: PluginBot, chat_id: str, reply: Reply | None) -> None:
            self.weak = self.weak + 1 if reply is None or reply.confidence < 0.5 else 0
            if self.weak >= 2:
                bot.hand_off(chat_id, message="Let me get a colleague.")

    async with running_bot(Streak(), pacing={"time_scale": 0.0}) as (bot, client):
        await client.feed(visitor_message("c1", "a"))
        await client.wait_calls(3)
        await client.feed(visitor_message("c1", "b"))
        await client.wait_calls(6)
        await settle()
        assert client.messages() == ["not sure", "Let me get a colleague."]
        assert bot.chats.is_quiet("c1")


async def test_on_reply_chosen_is_not_called_when_a_human_took_over_meanwhile(
    running_bot: RunningBot,
) -> None:
    gate = anyio.Event()
    seen: list[Reply | None] = []

    class Thinking:
        @hookimpl
        async def on_visitor_message(self) -> Reply:
            await gate.wait()
            return Reply("late")

        @hookimpl
        def on_reply_chosen(self, reply: Reply | None) -> None:
            seen.append(reply)

    async with running_bot(Thinking()) as (_bot, client):
        await client.feed(visitor_message("c1", "hi"))
        await settle()
        await client.feed(agent_joined("c1"))
        await settle()
        gate.set()
        await settle()
        assert seen == []
        assert client.calls == []


async def test_hook_on_visitor_typing(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(
            ChatVisitorTyping(chat_id="c1", visitor_id="v1", typing=Typing(is_typing=True))
        )
        await settle()
        assert recorder.named("on_visitor_typing") == [{"chat_id": "c1", "is_typing": True}]


async def test_hook_on_chat_rated(running_bot: RunningBot) -> None:
    recorder = Recorder()
    rating = Rating(value=5, text="great")
    async with running_bot(recorder) as (_bot, client):
        await client.feed(ChatRated(chat_id="c1", rating=rating))
        await settle()
        assert recorder.named("on_chat_rated") == [{"chat_id": "c1", "rating": rating}]


async def test_hook_on_agent_joined(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(agent_joined("c1", BOT_ID), agent_joined("c1", HUMAN_ID))
        await settle()
        # Only the human: the bot joining a chat is not news to its plugins.
        assert [c["agent"].id for c in recorder.named("on_agent_joined")] == [HUMAN_ID]


async def test_hook_on_agent_left(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(
            AgentLeft(chat_id="c1", agent=Agent(id=BOT_ID)),
            AgentLeft(chat_id="c1", agent=Agent(id=HUMAN_ID)),
        )
        await settle()
        assert [c["agent"].id for c in recorder.named("on_agent_left")] == [HUMAN_ID]


async def test_hook_on_agent_assigned(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (bot, client):
        await client.feed(AgentAssigned(chat_id="c1", assigned=[HUMAN_ID], assigned_by=BOT_ID))
        await settle()
        assert recorder.named("on_agent_assigned") == [{"chat_id": "c1", "agent_ids": (HUMAN_ID,)}]
        assert bot.chats.is_quiet("c1")


async def test_hook_on_visitor_connected(running_bot: RunningBot) -> None:
    recorder = Recorder()
    visitor = Visitor(id="v5", name="Eve")
    async with running_bot(recorder) as (_bot, client):
        await client.feed(VisitorConnected(visitor=visitor))
        await settle()
        assert recorder.named("on_visitor_connected") == [{"visitor": visitor}]


async def test_hook_on_visitor_updated(running_bot: RunningBot) -> None:
    recorder = Recorder()
    async with running_bot(recorder) as (_bot, client):
        await client.feed(VisitorUpdated(id="v5", changes={"pageUrl": "https://x.test/cart"}))
        await settle()
        assert recorder.named("on_visitor_updated") == [
            {"visitor_id": "v5", "changes": {"pageUrl": "https://x.test/cart"}}
        ]


async def test_hook_on_server_error(running_bot: RunningBot) -> None:
    recorder = Recorder()
    event = ServerErrorEvent(
        message="Auth token is invalid", type="auth_failure", event="agent.connect"
    )
    async with running_bot(recorder) as (_bot, client):
        await client.feed(event)
        await settle()
        (call,) = recorder.named("on_server_error")
        assert isinstance(call["error"], AuthFailure)
        assert call["event"] == event


@pytest.mark.parametrize("hook", ["on_visitor_message"])
async def test_hooks_may_take_any_subset_of_parameters(running_bot: RunningBot, hook: str) -> None:
    class Minimal:
        @hookimpl
        def on_visitor_message(self) -> Reply:
            return Reply("no arguments needed")

    async with running_bot(Minimal()) as (_bot, client):
        await client.feed(visitor_message("c1", "x"))
        await client.wait_calls(3)
        assert client.messages() == ["no arguments needed"]


async def test_on_stop_runs_even_when_the_login_fails() -> None:
    from agentbot.errors import AuthFailure as LoginRefused
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.storage import MEMORY, Storage

    from .conftest import make_config

    class Refusing:
        async def __aenter__(self) -> Any:
            raise LoginRefused("Auth token is invalid", type="auth_failure")

        async def __aexit__(self, *exc_info: object) -> None:
            return None

    recorder = Recorder()
    with Storage(MEMORY) as storage:
        bot = Bot(
            make_config(),
            plugins=[("rec", recorder)],
            connect=Refusing,  # type: ignore[arg-type]
            storage=storage,
            entry_points={},
        )
        with pytest.raises(LoginRefused):
            await bot.run()
    assert [name for name, _ in recorder.calls] == ["on_start", "on_stop"]


async def test_hook_on_erase(tmp_path: Any) -> None:
    from agentbot.data_erase import erase_for_config
    from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings

    class Forgetful:
        def __init__(self) -> None:
            self.asked: list[tuple[Any, ...]] = []

        @hookimpl
        async def on_erase(self, bot: PluginBot, visitor_id: str | None, email: str | None) -> int:
            self.asked.append((bot.storage is not None, visitor_id, email))
            return 2

    plugin = Forgetful()
    config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(agent_id="bot-1", key="k", send_via="socket"),
        runtime=RuntimeSettings(storage_path=tmp_path / "bot.sqlite3"),
    )
    report = await erase_for_config(
        config, visitor_id=None, email="a@b.example", plugins=[("gone", plugin)], entry_points={}
    )
    assert plugin.asked == [(True, None, "a@b.example")]
    assert report["plugin gone"] == 2
