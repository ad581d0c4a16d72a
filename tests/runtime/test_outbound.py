"""Outbound against the real sandbox, in process: both transports, exactly-once sends, actions.

REST paths and bodies: VENDOR-SOURCES §3 (S1 ``smartsupp/openapi-client``
``packages/generator/test/data/spec2.json``); the absence of a socket ``chat.message`` in
Smartsupp's own agent client: VENDOR-SOURCES §1 finding 1 (S3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from agentbot.client import AgentClient
from agentbot.errors import (
    ActionUnsupported,
    ConfigError,
    ConnectionLost,
    OutcomeUnknown,
    RestAuthError,
)
from agentbot.runtime.config import SmartsuppSettings
from agentbot.runtime.outbound import Outbound
from agentbot.sandbox import SandboxConfig, create_app
from agentbot.sandbox.rest_api import api_token_for

POST = "POST /v2/conversations/{id}"


class Sleeps:
    """Backoff waits, recorded instead of slept."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def app() -> Any:
    return create_app(SandboxConfig(), pages=False)


def _settings(app: Any, **overrides: Any) -> SmartsuppSettings:
    config = app.state.sandbox.config
    values: dict[str, Any] = {
        "url": "http://sandbox",
        "agent_id": config.bot.id,
        "key": config.account_key,
        "auth_token": config.bot.auth_token,
        "api_url": "http://sandbox/rest",
        "api_token": api_token_for(config.bot),
        **overrides,
    }
    return SmartsuppSettings(**values)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def rest_out(app: Any, sleeps: Sleeps) -> AsyncIterator[Outbound]:
    out = Outbound(_settings(app), lambda: None, sleep=sleeps, asgi_app=app)
    yield out
    await out.aclose()


def _open_chat(app: Any, text: str = "hello") -> tuple[str, str]:
    control = app.state.control
    visitor = control.create_visitor(name="Vera")["visitor"]
    chat = control.visitor_message(visitor["id"], text)["chat"]
    return str(chat["id"]), str(visitor["id"])


def _bot_said(app: Any, chat_id: str) -> list[str]:
    entries = app.state.control.transcript(chat_id)["entries"]
    return [e["text"] for e in entries if e["kind"] == "message" and e["by"] == "agent"]


def _posts(app: Any) -> int:
    return sum(1 for r in app.state.rest.requests if r["operation"] == POST)


async def test_rest_send_reaches_the_chat_and_returns_the_message(
    app: Any, rest_out: Outbound
) -> None:
    chat_id, visitor_id = _open_chat(app)
    assert rest_out.can_confirm is True
    message = await rest_out.send_message(chat_id, visitor_id, "Hello from REST")
    assert message.text == "Hello from REST"
    assert _bot_said(app, chat_id) == ["Hello from REST"]


async def test_socket_send_uses_chat_message_and_no_rest(app: Any) -> None:
    chat_id, visitor_id = _open_chat(app)
    settings = _settings(app, send_via="socket")
    async with AgentClient(
        "http://sandbox",
        agent_id=settings.agent_id,
        key=settings.key,
        auth_token=settings.auth_token,
        asgi_app=app,
    ) as client:
        out = Outbound(settings, lambda: client, asgi_app=app)
        message = await out.send_message(chat_id, visitor_id, "Hello from the socket")
        await out.aclose()
    assert message.text == "Hello from the socket"
    assert _bot_said(app, chat_id) == ["Hello from the socket"]
    assert _posts(app) == 0


async def test_socket_send_without_a_connection_is_connection_lost(app: Any) -> None:
    out = Outbound(_settings(app, send_via="socket", api_token=None), lambda: None)
    with pytest.raises(ConnectionLost):
        await out.send_message("co1", "vi1", "nobody hears this")


def test_rest_without_a_token_is_a_config_error_naming_the_key(app: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        Outbound(_settings(app, api_token=None), lambda: None)
    assert caught.value.key == "api_token"


async def test_five_xx_then_success_sends_exactly_one_message(
    app: Any, rest_out: Outbound, sleeps: Sleeps
) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.rest_fault(action="error", operation=POST, count=1)
    message = await rest_out.send_message_once(chat_id, visitor_id, "only once")
    assert message.text == "only once"
    assert _bot_said(app, chat_id) == ["only once"]
    assert _posts(app) == 2  # the failed one (nothing stored) and the retry
    assert len(sleeps.delays) == 1


async def test_dropped_answer_after_store_is_confirmed_not_resent(
    app: Any, rest_out: Outbound
) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.rest_fault(action="drop", operation=POST, count=1)
    message = await rest_out.send_message_once(chat_id, visitor_id, "stored, answer lost")
    assert message.text == "stored, answer lost"
    assert _bot_said(app, chat_id) == ["stored, answer lost"]
    assert _posts(app) == 1


async def test_timeout_after_the_server_stored_it_gives_no_duplicate(app: Any) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.rest_fault(action="slow", operation=POST, delay_seconds=60, count=1)
    out = Outbound(_settings(app, api_timeout_seconds=0.2), lambda: None, asgi_app=app)
    try:
        message = await out.send_message_once(chat_id, visitor_id, "slow but stored")
    finally:
        await out.aclose()
    assert message.text == "slow but stored"
    assert _bot_said(app, chat_id) == ["slow but stored"]
    assert _posts(app) == 1


async def test_unauthorized_is_final_with_no_retry_loop(
    app: Any, rest_out: Outbound, sleeps: Sleeps
) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.rest_fault(action="unauthorized", operation=POST)
    with pytest.raises(RestAuthError) as caught:
        await rest_out.send_message_once(chat_id, visitor_id, "refused")
    assert caught.value.status == 401
    assert _posts(app) == 1
    assert sleeps.delays == []
    assert _bot_said(app, chat_id) == []


async def test_unknown_outcome_is_raised_when_history_cannot_be_read(
    app: Any, rest_out: Outbound
) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.rest_fault(action="error", operation=POST, count=1)
    app.state.control.rest_fault(
        action="unauthorized", operation="GET /v2/conversations/{id}/messages"
    )
    with pytest.raises(OutcomeUnknown):
        await rest_out.send_message_once(chat_id, visitor_id, "cannot check")
    assert _posts(app) == 1


async def test_find_sent_ignores_other_agents_and_older_messages(
    app: Any, rest_out: Outbound
) -> None:
    chat_id, visitor_id = _open_chat(app)
    app.state.control.agent_message(chat_id, "same text")  # the human agent
    assert await rest_out.find_sent(chat_id, "same text", since_epoch=0) is None
    sent = await rest_out.send_message(chat_id, visitor_id, "same text")
    found = await rest_out.find_sent(chat_id, "same text", since_epoch=0)
    assert found is not None
    assert found.id == sent.id
    later = app.state.sandbox.config.wall_clock() + 3600
    assert await rest_out.find_sent(chat_id, "same text", since_epoch=later) is None


async def test_chat_actions_over_rest(app: Any, rest_out: Outbound) -> None:
    chat_id, _ = _open_chat(app)
    human = app.state.sandbox.config.human.id
    note = await rest_out.note(chat_id, "internal")
    assert note.type == "note"
    assert _bot_said(app, chat_id) == []
    assert list((await rest_out.tag_chat(chat_id, ["vip"])).tags) == ["vip"]
    assert (await rest_out.mark_important(chat_id)).important is True
    await rest_out.assign(chat_id, human)
    chat = app.state.sandbox.state.chats[chat_id]
    assert human in chat.assigned_ids
    await rest_out.unassign(chat_id, human)
    assert human not in chat.assigned_ids
    assert [c.id for c in await rest_out.open_chats()] == [chat_id]
    page = await rest_out.history(chat_id)
    assert [m.text for m in page.items][:1] == ["hello"]
    with pytest.raises(ActionUnsupported) as caught:
        await rest_out.transfer_to_group(chat_id, "support")
    assert "no operation" in caught.value.reason
    await rest_out.close_chat(chat_id)
    assert chat.status == "closed"
    assert await rest_out.open_chats() == []


async def test_actions_without_a_token_are_unsupported_with_the_reason(app: Any) -> None:
    out = Outbound(_settings(app, send_via="socket", api_token=None), lambda: None)
    assert out.can_confirm is False
    with pytest.raises(ActionUnsupported) as caught:
        await out.close_chat("co1")
    assert "api_token" in caught.value.reason
    with anyio.fail_after(1):
        assert await out.find_sent("co1", "x", since_epoch=0) is None
