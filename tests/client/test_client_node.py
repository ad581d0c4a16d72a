"""AgentClient against node socket.io 2.x (Engine.IO 3 / Socket.IO 4), the SDK's generation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from interop.node import NodePeers

from agentbot.api import (
    ChatMessage,
    ChatMessageReceived,
    ChatTyping,
    MalformedEvent,
    UnknownEvent,
    VisitorGet,
)
from agentbot.client import AgentClient, ConnectionDropped, Reconnected, ReconnectPolicy
from agentbot.errors import AuthFailure, ConnectionLost, NotFound, RequestTimeout

from .peers import AGENT_ID, AUTH_TOKEN, KEY, NodeSmartsupp

FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)

MESSAGE = {
    "id": "msg1",
    "type": "message",
    "subType": "contact",
    "chatId": "co2wgLaNKxtOe",
    "visitorId": "viJqfKK4RIOh",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "content": {"type": "text", "text": "Hello, where is my order?"},
}


@pytest.fixture
async def server(node_peers: NodePeers) -> AsyncIterator[NodeSmartsupp]:
    async with NodeSmartsupp.run(node_peers) as srv:
        yield srv


def client_for(server: NodeSmartsupp, **options: Any) -> AgentClient:
    options.setdefault("reconnect", FAST_RECONNECT)
    return AgentClient(
        server.url, agent_id=AGENT_ID, key=KEY, auth_token=AUTH_TOKEN, eio=3, **options
    )


async def next_event(client: AgentClient, kind: type[Any], *, timeout: float = 10) -> Any:
    with anyio.fail_after(timeout):
        async for event in client.events():
            if isinstance(event, kind):
                return event
    raise AssertionError(f"event stream ended before a {kind.__name__}")


async def test_login_sends_agent_connect_first_and_exposes_the_session(
    server: NodeSmartsupp,
) -> None:
    async with client_for(server, track_visitors=True) as client:
        assert client.session.agent.id == AGENT_ID
        assert client.session.account.groups[0].name == "Support"
        await server.wait_for(lambda: len(server.received) >= 2)
    name, args = server.received[0]
    assert name == "agent.connect"
    assert args[0]["version"] == 5
    assert args[0]["bundleVersion"].startswith("agentbot/")
    assert args[0]["trackVisitors"] is True
    assert server.received[1] == ("agent.track_visitors", [True])


async def test_wrong_key_raises_auth_failure_and_never_retries(server: NodeSmartsupp) -> None:
    client = AgentClient(server.url, agent_id=AGENT_ID, key="wrong", auth_token=AUTH_TOKEN)
    with pytest.raises(AuthFailure) as info:
        async with client:
            pass
    assert info.value.type == "auth_failure"
    assert "wrong" not in str(info.value)
    assert server.names() == ["agent.connect"]
    assert server.connections == 1


async def test_events_are_typed_with_bulk_unpacked_and_unknown_and_malformed_kept(
    server: NodeSmartsupp,
) -> None:
    async with client_for(server) as client:
        bulk = [
            {"name": "chat.message_received", "data": {"chatId": "c1", "message": MESSAGE}},
            {"name": "shiny.new_event", "data": {"x": 1}},
            {"name": "chat.message_received", "data": {"chatId": "c1"}},
        ]
        await server.command(
            "emit", name="chat.message_received", args=[{"chatId": "c1", "message": MESSAGE}]
        )
        await server.command("emit", name="bulk", args=[bulk])
        got: list[Any] = []
        with anyio.fail_after(10):
            async for event in client.events():
                got.append(event)
                if len(got) == 4:
                    break
    assert isinstance(got[0], ChatMessageReceived)
    assert got[0].message.content.text == "Hello, where is my order?"
    assert isinstance(got[1], ChatMessageReceived)
    assert isinstance(got[2], UnknownEvent)
    assert got[2].name == "shiny.new_event"
    assert isinstance(got[3], MalformedEvent)
    assert got[3].name == "chat.message_received"


async def test_request_gets_its_typed_reply_or_typed_error(server: NodeSmartsupp) -> None:
    async with client_for(server) as client:
        stored = await client.request(ChatMessage(chat_id="c1", visitor_id="v1", text="Hi there"))
        assert stored.content.text == "Hi there"
        assert stored.sub_type == "agent"
        with pytest.raises(NotFound):
            await client.request(VisitorGet(id="missing"))


async def test_request_without_reply_times_out_and_the_link_survives(
    server: NodeSmartsupp,
) -> None:
    await server.command("drop_acks", event="visitor.get")
    async with client_for(server) as client:
        with pytest.raises(RequestTimeout):
            await client.request(VisitorGet(id="v1"), timeout=0.3)
        await server.command("allow_acks", event="visitor.get")
        visitor = await client.request(VisitorGet(id="v2"))
        assert visitor.id == "v2"
        assert client.connected


async def test_dropped_socket_reconnects_with_agent_connect_then_track_visitors(
    server: NodeSmartsupp,
) -> None:
    async with client_for(server, track_visitors=False) as client:
        client.set_track_visitors(True)
        await server.wait_for(lambda: server.received.count(("agent.track_visitors", [True])) == 1)
        before = len(server.received)
        await server.command("drop")
        dropped = await next_event(client, ConnectionDropped)
        assert dropped.reason
        reconnected = await next_event(client, Reconnected)
        assert reconnected.attempt >= 1
        assert reconnected.session.agent.id == AGENT_ID
        await client.send(ChatTyping(chat_id="c1", visitor_id="v1", is_typing=True))
        await server.wait_for(lambda: "chat.typing" in server.names()[before:])
    after = server.received[before:]
    assert [name for name, _ in after[:3]] == [
        "agent.connect",
        "agent.track_visitors",
        "chat.typing",
    ]
    assert after[0][1][0]["trackVisitors"] is True
    assert after[1][1] == [True]
    assert server.connections == 2


async def test_request_in_flight_fails_with_connection_lost_and_is_not_resent(
    server: NodeSmartsupp,
) -> None:
    await server.command("drop_acks", event="chat.message")
    async with client_for(server) as client:
        async with anyio.create_task_group() as tg:
            errors: list[BaseException] = []

            async def ask() -> None:
                try:
                    await client.request(ChatMessage(chat_id="c1", visitor_id="v1", text="once"))
                except ConnectionLost as exc:
                    errors.append(exc)

            tg.start_soon(ask)
            await server.wait_for(lambda: "chat.message" in server.names())
            await server.command("drop")
        assert len(errors) == 1
        await next_event(client, Reconnected)
    assert server.names().count("chat.message") == 1


async def test_silent_server_is_detected_as_dead_and_replaced(node_peers: NodePeers) -> None:
    server_cm = NodeSmartsupp.run(node_peers, pingInterval=200, pingTimeout=300)
    async with server_cm as server, client_for(server) as client:
        await server.command("silence", on=True)
        dropped = await next_event(client, ConnectionDropped)
        assert "ping" in dropped.reason
        await server.command("silence", on=False)
        await next_event(client, Reconnected)
        assert client.connected


async def test_logout_event_stops_the_client_for_good(server: NodeSmartsupp) -> None:
    async with client_for(server) as client:
        await server.command("emit", name="logout", args=[{}])
        with anyio.fail_after(10):
            events = [event async for event in client.events()]
        assert type(events[-1]).__name__ == "Logout"
        assert client.closed_reason == "logout"
        assert not client.connected
    assert server.connections == 1


async def test_close_during_a_request_fails_it_promptly(server: NodeSmartsupp) -> None:
    await server.command("drop_acks", event="visitor.get")
    client = client_for(server)
    errors: list[BaseException] = []
    async with client, anyio.create_task_group() as tg:

        async def ask() -> None:
            try:
                await client.request(VisitorGet(id="v1"), timeout=30)
            except ConnectionLost as exc:
                errors.append(exc)

        tg.start_soon(ask)
        await server.wait_for(lambda: "visitor.get" in server.names())
        with anyio.fail_after(2):
            await client.close()
    assert len(errors) == 1
    assert client.closed_reason == "closed"


async def test_logout_request_sends_agent_logout_then_closes(server: NodeSmartsupp) -> None:
    async with client_for(server) as client:
        await client.logout(device_token="tok", device_platform="ios")
        assert client.closed_reason == "logout"
    name, args = server.received[-1]
    assert name == "agent.logout"
    assert args == [{"deviceToken": "tok", "devicePlatform": "ios"}]


async def test_repr_and_errors_never_show_the_key_or_token(server: NodeSmartsupp) -> None:
    async with client_for(server) as client:
        text = repr(client) + repr(client.session)
    assert KEY not in text
    assert AUTH_TOKEN not in text
