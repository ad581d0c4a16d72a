"""RestApi against the sandbox's REST API, in process: shapes, auth schemes, retries, faults.

Paths, bodies and the ``{code, message}`` error payload come from Smartsupp's own REST spec
(VENDOR-SOURCES §3, S1 ``smartsupp/openapi-client`` ``packages/generator/test/data/spec2.json``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentbot.client import RestApi
from agentbot.client.rest import auth_headers, normalise_rest_message
from agentbot.errors import (
    ConnectionLost,
    OutcomeUnknown,
    RestAuthError,
    RestError,
)
from agentbot.sandbox import SandboxConfig, create_app
from agentbot.sandbox.rest_api import api_token_for

BASE = "http://sandbox/rest"


class Sleeps:
    """Backoff waits, recorded instead of slept (no real waiting in tests)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def app() -> Any:
    return create_app(SandboxConfig(), pages=False)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _token(app: Any) -> str:
    return api_token_for(app.state.sandbox.config.bot)


@pytest.fixture
async def rest(app: Any, sleeps: Sleeps) -> AsyncIterator[RestApi]:
    async with RestApi(base_url=BASE, token=_token(app), asgi_app=app, sleep=sleeps) as api:
        yield api


def _open_chat(app: Any, text: str = "hello") -> str:
    control = app.state.control
    visitor = control.create_visitor(name="Vera")["visitor"]
    return str(control.visitor_message(visitor["id"], text)["chat"]["id"])


def _agent_messages(app: Any, chat_id: str) -> list[str]:
    chat = app.state.sandbox.state.chats[chat_id]
    return [m.text for m in chat.messages if m.type == "message" and m.sub_type == "agent"]


def _posts(app: Any) -> list[dict[str, Any]]:
    return [r for r in app.state.rest.requests if r["operation"] == "POST /v2/conversations/{id}"]


async def test_send_message_posts_and_returns_the_stored_message(app: Any, rest: RestApi) -> None:
    chat_id = _open_chat(app)
    message = await rest.send_message(chat_id, "Hi, how can I help?")
    assert message.chat_id == chat_id
    assert message.sub_type == "agent"  # the REST spelling sub_type, normalised
    assert message.type == "message"
    assert message.text == "Hi, how can I help?"
    assert message.agent_id == app.state.sandbox.config.bot.id
    assert _agent_messages(app, chat_id) == ["Hi, how can I help?"]


async def test_a_note_is_stored_as_note_and_never_reaches_the_transcript(
    app: Any, rest: RestApi
) -> None:
    chat_id = _open_chat(app)
    note = await rest.send_message(chat_id, "VIP customer", type="note")
    assert note.type == "note"
    assert _agent_messages(app, chat_id) == []
    said = [e for e in app.state.control.transcript(chat_id)["entries"] if e["kind"] == "message"]
    assert [e["text"] for e in said] == ["hello"]


@pytest.mark.parametrize("scheme", ["bearer", "apikey", "cookie"])
async def test_each_auth_scheme_is_accepted(app: Any, scheme: Any) -> None:
    chat_id = _open_chat(app)
    async with RestApi(base_url=BASE, token=_token(app), auth=scheme, asgi_app=app) as api:
        chat = await api.get_conversation(chat_id)
    assert chat.id == chat_id
    assert chat.is_closed is False


def test_auth_headers_spell_each_scheme() -> None:
    assert auth_headers("bearer", "t") == {"Authorization": "Bearer t"}
    assert auth_headers("apikey", "t") == {"apiKey": "t"}
    assert auth_headers("cookie", "t") == {"Cookie": "jwt_access_token=t"}


async def test_wrong_token_is_a_final_auth_error_without_retries(app: Any, sleeps: Sleeps) -> None:
    chat_id = _open_chat(app)
    secret = "wrong-secret-token"
    async with RestApi(base_url=BASE, token=secret, asgi_app=app, sleep=sleeps) as api:
        with pytest.raises(RestAuthError) as caught:
            await api.get_conversation(chat_id)
        assert secret not in repr(api)
    assert caught.value.status == 401
    assert caught.value.error_code == "unauthorized"
    assert secret not in str(caught.value)
    assert sleeps.delays == []
    assert len(app.state.rest.requests) == 1


async def test_error_payload_becomes_rest_error_with_code_and_message(rest: RestApi) -> None:
    with pytest.raises(RestError) as caught:
        await rest.get_conversation("co-missing")
    assert caught.value.status == 404
    assert caught.value.error_code == "not_found"
    assert "Conversation not found" in str(caught.value)


async def test_idempotent_patch_is_retried_after_5xx(
    app: Any, rest: RestApi, sleeps: Sleeps
) -> None:
    chat_id = _open_chat(app)
    app.state.control.rest_fault(action="error", operation="PATCH /v2/conversations/{id}", count=2)
    chat = await rest.tag_chat(chat_id, ["vip", "billing"])
    assert list(chat.tags) == ["vip", "billing"]
    assert len(sleeps.delays) == 2


async def test_post_message_after_5xx_is_outcome_unknown_and_not_resent(
    app: Any, rest: RestApi, sleeps: Sleeps
) -> None:
    chat_id = _open_chat(app)
    app.state.control.rest_fault(action="error", operation="POST /v2/conversations/{id}", count=1)
    with pytest.raises(OutcomeUnknown):
        await rest.send_message(chat_id, "once")
    assert len(_posts(app)) == 1
    assert sleeps.delays == []


async def test_dropped_response_after_store_is_outcome_unknown(app: Any, rest: RestApi) -> None:
    chat_id = _open_chat(app)
    app.state.control.rest_fault(action="drop", operation="POST /v2/conversations/{id}", count=1)
    with pytest.raises(OutcomeUnknown):
        await rest.send_message(chat_id, "stored anyway")
    assert _agent_messages(app, chat_id) == ["stored anyway"]
    assert len(_posts(app)) == 1


async def test_slow_answer_times_out_as_outcome_unknown(app: Any) -> None:
    chat_id = _open_chat(app)
    app.state.control.rest_fault(
        action="slow", operation="POST /v2/conversations/{id}", delay_seconds=60, count=1
    )
    async with RestApi(base_url=BASE, token=_token(app), asgi_app=app, timeout_seconds=0.2) as api:
        with pytest.raises(OutcomeUnknown):
            await api.send_message(chat_id, "late")
    assert _agent_messages(app, chat_id) == ["late"]


async def test_connect_error_is_connection_lost_after_retries(sleeps: Sleeps) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused, nothing was sent.
    async with RestApi(base_url="http://127.0.0.1:9/rest", token="t", sleep=sleeps) as api:
        with pytest.raises(ConnectionLost):
            await api.send_message("co1", "never sent")
    assert len(sleeps.delays) == 2


async def test_history_pages_in_order(app: Any, rest: RestApi) -> None:
    chat_id = _open_chat(app, "first")
    for n in range(3):
        await rest.send_message(chat_id, f"answer {n}")
    page = await rest.history(chat_id, size=2)
    assert [m.text for m in page.items] == ["first", "answer 0"]
    assert page.total == 4
    assert page.after is not None
    rest_page = await rest.history(chat_id, size=2, after=page.after)
    assert [m.text for m in rest_page.items] == ["answer 1", "answer 2"]
    assert rest_page.after is None
    newest = await rest.history(chat_id, size=1, order="desc")
    assert [m.text for m in newest.items] == ["answer 2"]


async def test_close_assign_join_and_important(app: Any, rest: RestApi) -> None:
    chat_id = _open_chat(app)
    human = app.state.sandbox.config.human.id
    await rest.assign(chat_id, human)
    chat = app.state.sandbox.state.chats[chat_id]
    assert human in chat.assigned_ids
    await rest.unassign(chat_id, human)
    assert human not in chat.assigned_ids
    marked = await rest.set_important(chat_id)
    assert marked.important is True
    await rest.close_chat(chat_id)
    assert chat.status == "closed"
    with pytest.raises(RestError) as caught:
        await rest.send_message(chat_id, "after close")
    assert caught.value.status == 400


async def test_search_finds_open_conversations(app: Any, rest: RestApi) -> None:
    open_id = _open_chat(app)
    closed_id = _open_chat(app)
    await rest.close_chat(closed_id)
    page = await rest.search_conversations(query=[{"field": "status", "value": "closed"}])
    assert [c.id for c in page.items] == [closed_id]
    assert page.total == 1
    pending = await rest.search_conversations(
        query=[{"field": "status", "value": "closed", "op": "must_not"}]
    )
    assert [c.id for c in pending.items] == [open_id]


def test_normalise_maps_rest_sub_type_once() -> None:
    assert normalise_rest_message({"sub_type": "agent"}) == {"subType": "agent"}
    assert normalise_rest_message({"subType": "x", "sub_type": "y"}) == {
        "subType": "x",
        "sub_type": "y",
    }
