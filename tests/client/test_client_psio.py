"""AgentClient against python-socketio's AsyncServer (Engine.IO 4 / Socket.IO 5) under uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from agentbot.api import (
    ChatMessage,
    ChatMessageReceived,
    ServerErrorEvent,
    TrackVisitors,
    VisitorGet,
)
from agentbot.client import AgentClient, ConnectionDropped, Reconnected, ReconnectPolicy
from agentbot.errors import AuthFailure, NotFound, RequestTimeout

from .peers import AGENT_ID, AUTH_TOKEN, KEY, PySocketIOSmartsupp
from .test_client_node import MESSAGE

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn + python-socketio

FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)


@pytest.fixture
async def server() -> AsyncIterator[PySocketIOSmartsupp]:
    async with PySocketIOSmartsupp().running() as srv:
        yield srv


def client_for(server: PySocketIOSmartsupp, **options: Any) -> AgentClient:
    options.setdefault("reconnect", FAST_RECONNECT)
    return AgentClient(
        server.url, agent_id=AGENT_ID, key=KEY, auth_token=AUTH_TOKEN, eio=4, **options
    )


async def test_login_over_eio4_then_track_visitors(server: PySocketIOSmartsupp) -> None:
    async with client_for(server, track_visitors=True) as client:
        assert client.session.server_version == 3
        await server.wait_for(lambda: len(server.received) >= 2)
    assert server.names()[:2] == ["agent.connect", "agent.track_visitors"]
    assert server.received[1][1] == [True]


async def test_auth_failure_over_eio4(server: PySocketIOSmartsupp) -> None:
    with pytest.raises(AuthFailure):
        async with AgentClient(server.url, agent_id=AGENT_ID, key="nope", eio=4):
            pass
    assert server.connections == 1


async def test_events_requests_and_errors_over_eio4(server: PySocketIOSmartsupp) -> None:
    async with client_for(server) as client:
        await server.emit("chat.message_received", {"chatId": "c1", "message": MESSAGE})
        await server.emit("server.error", {"message": "Something broke", "code": 500})
        first = await client.events().next(timeout=10)
        second = await client.events().next(timeout=10)
        assert isinstance(first, ChatMessageReceived)
        assert first.message.id == "msg1"
        assert isinstance(second, ServerErrorEvent)
        assert second.message == "Something broke"
        stored = await client.request(ChatMessage(chat_id="c1", visitor_id="v1", text="Hi"))
        assert stored.content.text == "Hi"
        with pytest.raises(NotFound):
            await client.request(VisitorGet(id="missing"))
        server.drop_acks.add("visitor.get")
        with pytest.raises(RequestTimeout):
            await client.request(VisitorGet(id="v1"), timeout=0.2)


async def test_server_disconnect_leads_to_a_new_session(server: PySocketIOSmartsupp) -> None:
    async with client_for(server, track_visitors=True) as client:
        await server.wait_for(lambda: len(server.received) >= 2)
        before = len(server.received)
        for sid in list(server.sids):
            await server.sio.disconnect(sid)
        stream = client.events()
        assert isinstance(await stream.next(timeout=10), ConnectionDropped)
        assert isinstance(await stream.next(timeout=10), Reconnected)
        await server.wait_for(lambda: len(server.received) >= before + 2)
    assert server.names()[before : before + 2] == ["agent.connect", "agent.track_visitors"]
    assert server.received[before + 1][1] == [True]


async def test_server_that_stops_pinging_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    import engineio.async_socket

    silent = {"on": False}
    original = engineio.async_socket.AsyncSocket._send_ping

    async def maybe_ping(self: Any) -> None:
        if silent["on"]:
            return
        await original(self)

    monkeypatch.setattr(engineio.async_socket.AsyncSocket, "_send_ping", maybe_ping)
    server_cm = PySocketIOSmartsupp(ping_interval=1, ping_timeout=1).running()
    async with server_cm as server, client_for(server) as client:
        silent["on"] = True

        async def keep_talking() -> None:
            # python-engineio also closes a link on which the client says nothing for
            # interval + timeout; keep the client talking so only its own check can fire.
            while True:
                await client.send(TrackVisitors(enabled=False))
                await anyio.sleep(0.25)

        async with anyio.create_task_group() as tg:
            tg.start_soon(keep_talking)
            dropped = await client.events().next(timeout=10)
            tg.cancel_scope.cancel()
        assert isinstance(dropped, ConnectionDropped)
        assert "ping" in dropped.reason
        silent["on"] = False
        assert isinstance(await client.events().next(timeout=10), Reconnected)
