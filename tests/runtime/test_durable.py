"""Durable chat state (issue 12): what the bot learned about a chat survives a crash, a dropped
link and a restarted server, and is never confused between two servers.

* A human joined, or a plugin handed the chat off; the bot *process* is killed with SIGKILL
  (``agentbot run`` as a child process, a SQLite file in ``tmp_path``, the sandbox served by
  uvicorn on loopback) and started again; the visitor writes: the bot stays quiet. The bot
  speaks over the socket only and has no REST credential, so nothing at login can tell it
  about the human: only its own storage can.
* A ``chat.closed`` and a ``chat.agent_joined`` that happen while the bot's link is down are
  learned at the next login (resync over the sandbox's REST API), in-process on both backends.
* A new sandbox (ids are random per instance) does not silence a second run on the same file.
* ChatState's transitions and its record round trip, as plain unit tests.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentbot.api import decode_event
from agentbot.runtime.chat_state import DURABLE_FIELDS, ChatState, Rules, Transition
from agentbot.sandbox import SandboxConfig, create_app, running_server
from tests.api.examples import AGENT_ID, CHAT_ID, CONTACT_MESSAGE, EVENTS
from tests.runtime import test_e2e_sandbox as e2e
from tests.test_reloader import Output

from .children import child_env

WAIT_SECONDS = 30

PLUGIN = """
import agentbot

@agentbot.hookimpl
def on_visitor_message(bot, chat_id, text):
    if "human" in text:
        bot.hand_off(chat_id, message="A colleague will take over.")
        return None
    return agentbot.Reply("echo: " + text)
"""


def write_config(folder: Path, base_url: str, sandbox: SandboxConfig) -> None:
    (folder / "answer.py").write_text(PLUGIN, encoding="utf-8")
    (folder / "bot.toml").write_text(
        textwrap.dedent(
            f"""
            [smartsupp]
            url = "{base_url}"
            agent_id = "{sandbox.bot.id}"
            send_via = "socket"
            [pacing]
            time_scale = 0.0
            [runtime]
            storage_path = "bot.sqlite3"
            [plugins.answer]
            path = "answer.py"
            """
        ),
        encoding="utf-8",
    )


def bot_env(sandbox: SandboxConfig) -> dict[str, str]:
    """The child's environment: the socket credentials, and no REST token at all."""
    return child_env(sandbox)


def inbox_outcome(path: Path, message_id: str) -> str | None:
    """What the (stopped) bot decided about a visitor message, read from its own file."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT outcome FROM inbox WHERE message_id = ?", (message_id,))
        found = rows.fetchall()
    assert found, f"the bot never took in message {message_id}"
    return str(found[0][0]) if found[0][0] is not None else None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
@pytest.mark.parametrize("why", ["human joined", "handed off"])
async def test_sigkill_and_restart_keep_the_bot_quiet(tmp_path: Path, why: str) -> None:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config, pages=False)
    control = app.state.control
    sandbox = app.state.sandbox

    def bot_logins() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = control.connections(side="agent")["connections"]
        return [c for c in found if c["authenticated"]]

    def logged_in(count: int) -> Callable[[], bool]:
        return lambda: len(bot_logins()) >= count and bot_logins()[-1]["open"]

    def answers(chat_id: str) -> list[str]:
        entries = control.transcript(chat_id)["entries"]
        return [e["text"] for e in entries if e["kind"] == "message" and e["by"] == "agent"]

    async def until(predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(WAIT_SECONDS):
            await sandbox.wait_until(predicate)

    ada = control.create_visitor(name="Ada")["visitor"]["id"]
    bob = control.create_visitor(name="Bob")["visitor"]["id"]
    command = [sys.executable, "-m", "agentbot", "run", "-c", "bot.toml"]
    outputs: list[Output] = []

    async with running_server(app) as base_url, anyio.create_task_group() as tg:
        write_config(tmp_path, base_url, sandbox_config)

        async def start() -> tuple[anyio.abc.Process, Output]:
            process = await anyio.open_process(
                command, cwd=tmp_path, env=bot_env(sandbox_config), stderr=-1, stdout=-1
            )
            output = Output()
            outputs.append(output)
            assert process.stderr is not None
            tg.start_soon(output.drain, process.stderr)
            return process, output

        first, _log = await start()
        try:
            await until(logged_in(1))
            chat_id = control.visitor_message(ada, "hi")["chat"]["id"]
            await until(lambda: answers(chat_id) == ["echo: hi"])
            # Barriers that mean "stored": the facts are written while the event is
            # dispatched, before the next event (Bob's) is; a hand-off is written before its
            # goodbye is queued.
            if why == "human joined":
                control.agent_join(chat_id)
                bob_chat = control.visitor_message(bob, "first")["chat"]["id"]
                await until(lambda: answers(bob_chat) == ["echo: first"])
            else:
                control.visitor_message(ada, "a human please")
                await until(lambda: len(answers(chat_id)) == 2)
            first.send_signal(signal.SIGKILL)
            with anyio.fail_after(WAIT_SECONDS):
                assert await first.wait() == -signal.SIGKILL
        finally:
            if first.returncode is None:
                first.kill()
            with anyio.CancelScope(shield=True):
                await first.aclose()

        second, _log = await start()
        try:
            await until(logged_in(2))
            message_id = control.visitor_message(ada, "are you still there?")["message"]["id"]
            # A barrier: the socket delivers Ada's message before Bob's, and the bot decides
            # about each visitor message as it is dispatched, in order.
            bob_chat = control.visitor_message(bob, "second")["chat"]["id"]
            await until(lambda: "echo: second" in answers(bob_chat))
            second.send_signal(signal.SIGTERM)
            with anyio.fail_after(WAIT_SECONDS):
                assert await second.wait() == 0
        except BaseException:
            for output in outputs:
                print(output.text)
            raise
        finally:
            if second.returncode is None:
                second.kill()
            with anyio.CancelScope(shield=True):
                await second.aclose()

    expected = (
        ["echo: hi"] if why == "human joined" else ["echo: hi", "A colleague will take over."]
    )
    assert answers(chat_id) == expected
    assert inbox_outcome(tmp_path / "bot.sqlite3", message_id) == "quiet"


def state_of(bot: Any, chat_id: str) -> ChatState:
    """The chat's state as its actor holds it (``bot.chats`` maps ids to actors)."""
    chats = bot.chats
    actors = getattr(chats, "actors", chats)
    state: ChatState = actors[chat_id].state
    return state


def bot_connections(h: e2e.Harness) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = h.control.connections(agent_id=h.bot_id)["connections"]
    return [c for c in found if c["authenticated"]]


async def test_close_and_join_while_the_link_is_down_are_learned_at_login() -> None:
    async with e2e.bot_on_sandbox(4, e2e.Echo(), in_process=True) as h:
        closing = await h.reply_round("hi", visitor="Ada")
        joined = await h.reply_round("hi", visitor="Bob")
        wire_before = {chat: h.wire(chat) for chat in (closing, joined)}
        # All in one step of the event loop: the bot cannot log in again in between, so it
        # hears of neither change on a live link.
        h.control.drop(agent_id=h.bot_id)
        h.control.close_chat(closing)
        h.control.agent_join(joined)
        h.write("anyone there?", visitor="Bob")  # missed too; a human is in that chat now
        await h.wait(lambda: len(bot_connections(h)) == 2 and bot_connections(h)[-1]["open"])
        await h.reply_round("hello", visitor="Carol")  # answered: the resync is over

        assert state_of(h.bot, closing).closed
        assert state_of(h.bot, closing).quiet_reason == "closed"
        assert state_of(h.bot, joined).human_active
        assert state_of(h.bot, joined).quiet_reason == "human"
        for chat in (closing, joined):
            assert h.wire(chat) == wire_before[chat]
        # Learned at login, not delivered: no connection of the bot was sent either event.
        for conn in bot_connections(h):
            names = [e["name"] for e in h.control.events(conn["id"])["events"]]
            assert "chat.closed" not in names
            assert "chat.agent_joined" not in names


async def test_a_resync_that_cannot_read_the_chats_warns_once_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The open chats' latest messages are read concurrently at login; when every read fails
    # the bot says so in one line (not one per chat, not an exception group) and answers on.
    async with e2e.bot_on_sandbox(4, e2e.Echo(), in_process=True) as h:
        await h.reply_round("hi", visitor="Ada")
        await h.reply_round("hi", visitor="Bob")
        h.control.rest_fault(action="error", operation="GET /v2/conversations/{id}/messages")
        h.control.drop(agent_id=h.bot_id)
        missed = [h.write("still there?", visitor=name)[0] for name in ("Ada", "Bob")]
        await h.wait(lambda: len(bot_connections(h)) == 2 and bot_connections(h)[-1]["open"])
        await h.reply_round("hello", visitor="Carol")  # answered: the bot went on
        warnings = [
            r.getMessage()
            for r in caplog.records
            if r.levelname == "WARNING" and "could not read the latest messages" in r.getMessage()
        ]
        assert len(warnings) == 1, warnings
        failed = re.search(r"of (\d+) of (\d+) open chat", warnings[0])
        assert failed is not None, warnings[0]
        assert failed[1] == failed[2]  # every read failed, Ada's and Bob's among them
        assert int(failed[1]) >= 2
        for chat in missed:  # nothing to go on: not answered, and not guessed at
            assert h.wire(chat)[-1] != ("message", "echo: still there?")


async def test_a_new_sandbox_does_not_silence_a_second_run_on_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bot_on_sandbox opens Storage(MEMORY); point it at one file shared by both runs.
    monkeypatch.setattr(e2e, "MEMORY", str(tmp_path / "bot.sqlite3"))
    async with e2e.bot_on_sandbox(4, e2e.Echo(), in_process=True) as h:
        first_chat = await h.reply_round("hi", visitor="Ada")
        h.control.agent_join(first_chat)
        await h.reply_round("barrier", visitor="Bob")
        assert state_of(h.bot, first_chat).human_active
        namespace = h.bot.ledger.namespace
    async with e2e.bot_on_sandbox(4, e2e.Echo(), in_process=True) as h:
        # Same URL, account and agent: the same namespace. Only fresh ids keep them apart.
        assert h.bot.ledger.namespace == namespace
        chat = await h.reply_round("hi", visitor="Ada")
        assert chat != first_chat
        # Answered (the order of typing and a REST message is not this test's business:
        # they travel on two connections).
        bot_lines = [
            e["text"]
            for e in h.control.transcript(chat)["entries"]
            if e["kind"] == "message" and e["by"] == "agent"
        ]
        assert bot_lines == ["echo: hi"]


# -- ChatState, pure -----------------------------------------------------------------------

RULES = Rules(agent_id="bot-1")


def event(name: str, **changes: Any) -> Any:
    return decode_event(name, {**EVENTS[name], **changes})


def visitor_message(message_id: str) -> Any:
    return event("chat.message_received", message={**CONTACT_MESSAGE, "id": message_id})


def test_a_visitor_message_is_answered_and_remembered() -> None:
    state = ChatState(chat_id=CHAT_ID)
    transition = state.apply(visitor_message("m1"), RULES, now=100.0)
    assert transition.answer
    assert transition.persist
    assert not transition.silence
    assert (state.last_visitor_message_id, state.last_visitor_at) == ("m1", 100.0)
    assert state.visitor_id == CONTACT_MESSAGE["visitorId"]


def test_a_human_joining_silences_and_is_not_answered_after() -> None:
    state = ChatState(chat_id=CHAT_ID)
    joined = state.apply(event("chat.agent_joined"), RULES, now=0)
    assert joined.silence
    assert joined.persist
    assert joined.note
    assert "steps back" in joined.note
    assert state.humans == {AGENT_ID}
    assert state.human_active
    assert state.quiet_reason == "human"
    assert not state.apply(visitor_message("m2"), RULES, now=1).answer
    # Leaving does not bring the bot back unless configured.
    state.apply(event("chat.agent_left"), RULES, now=2)
    assert state.humans == frozenset()
    assert state.human_active


def test_resume_after_human_leaves_when_configured() -> None:
    rules = Rules(agent_id="bot-1", resume_after_human_leaves=True)
    state = ChatState(chat_id=CHAT_ID)
    state.apply(event("chat.agent_joined"), rules, now=0)
    left = state.apply(event("chat.agent_left"), rules, now=1)
    assert left.persist
    assert not state.human_active
    assert state.may_send()


def test_the_bots_own_join_and_messages_change_nothing() -> None:
    rules = Rules(agent_id=AGENT_ID)
    state = ChatState(chat_id=CHAT_ID)
    assert not state.apply(event("chat.agent_joined"), rules, now=0).persist
    assert state.may_send()
    assert not state.humans


def test_human_first_off_records_humans_but_keeps_talking() -> None:
    rules = Rules(agent_id="bot-1", human_first=False)
    state = ChatState(chat_id=CHAT_ID)
    transition = state.apply(event("chat.agent_joined"), rules, now=0)
    assert transition.persist
    assert not transition.silence
    assert state.humans == {AGENT_ID}
    assert state.may_send()


@pytest.mark.parametrize("name", ["chat.closed", "chat.visitor_closed", "chat.deleted"])
def test_closing_silences_once_and_opening_again_reopens(name: str) -> None:
    state = ChatState(chat_id=CHAT_ID)
    closed = state.apply(event(name), RULES, now=0)
    assert closed.silence
    assert closed.persist
    assert state.closed
    assert state.apply(event(name), RULES, now=1) == state.apply(
        event("chat.updated"), RULES, now=1
    )
    assert not state.may_send()
    assert state.quiet_reason == "closed"
    reopened = state.apply(event("chat.opened"), RULES, now=2)
    assert reopened.persist
    assert reopened.note == "reopened"
    assert state.may_send()


def test_hand_off_pause_and_resume() -> None:
    state = ChatState(chat_id=CHAT_ID)
    assert state.hand_off().persist
    assert not state.may_send()
    assert state.may_send(handoff=True)
    assert state.quiet_reason == "handed off"
    assert not state.hand_off().persist  # already handed off: nothing new to store
    assert state.pause().persist
    assert not state.may_send(handoff=True)
    assert state.resume().persist
    assert state.may_send()
    assert state.resume().note is None


def test_learn_at_login() -> None:
    state = ChatState(chat_id=CHAT_ID)
    assert state.learn(closed=True, rules=RULES).silence
    assert state.closed
    assert state.learn(closed=False, rules=RULES).persist
    assert not state.closed
    joined = state.learn(closed=False, humans={"bot-1", "h9"}, rules=RULES)
    assert joined.silence
    assert state.humans == {"h9"}
    assert state.human_active
    assert state.learn(closed=False, humans={"h9"}, rules=RULES) == Transition()


def test_record_round_trip_keeps_every_durable_fact() -> None:
    state = ChatState(
        chat_id=CHAT_ID,
        visitor_id="vi1",
        closed=True,
        humans=frozenset({"h2", "h1"}),
        human_active=True,
        handed_off=True,
        paused=True,
        greeted=True,
        last_visitor_message_id="m9",
        last_visitor_at=12.5,
    )
    record = state.to_record()
    assert set(record) == set(DURABLE_FIELDS)
    assert record["humans"] == ["h1", "h2"]
    assert ChatState.from_record(CHAT_ID, json.loads(json.dumps(record))) == state
    assert ChatState.from_record(CHAT_ID, {}) == ChatState(chat_id=CHAT_ID)


def test_from_record_ignores_bad_values() -> None:
    bad = {"closed": "yes", "humans": "h1", "last_visitor_at": "noon", "visitor_id": 7, "x": 1}
    assert ChatState.from_record(CHAT_ID, bad) == ChatState(chat_id=CHAT_ID)
