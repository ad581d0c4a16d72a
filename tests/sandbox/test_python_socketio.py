"""Conformance with python-socketio's AsyncClient (Engine.IO 4 / Socket.IO 5), a peer nobody
here wrote, against the sandbox served by uvicorn on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
import socketio
from starlette.applications import Starlette

from agentbot.sandbox import SandboxConfig, SandboxControl, create_app, running_server

pytestmark = [pytest.mark.interop, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

STEP_SECONDS = 10.0
LOGIN = {"version": 5, "id": "bot-1", "key": "sandbox-key", "authToken": "bot-token"}


class Peer:
    """A python-socketio client that records every event it receives, in order."""

    def __init__(self, http: aiohttp.ClientSession, *, reconnection: bool = False) -> None:
        self.sio = socketio.AsyncClient(
            reconnection=reconnection, reconnection_delay=0.05, http_session=http
        )
        self.events: list[tuple[str, Any]] = []
        self.disconnects = 0
        self.connects = 0
        self._changed = anyio.Event()
        self.sio.on("*", self._on_any)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect", self._on_connect)

    def _bump(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _on_any(self, name: str, data: Any = None) -> None:
        self.events.append((name, data))
        self._bump()

    async def _on_disconnect(self, *args: Any) -> None:
        self.disconnects += 1
        self._bump()

    async def _on_connect(self) -> None:
        self.connects += 1
        self._bump()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(STEP_SECONDS):
            while not predicate():
                await self._changed.wait()

    async def next_event(self, name: str, start: int = 0) -> Any:
        def found() -> bool:
            return any(n == name for n, _ in self.events[start:])

        await self.wait_for(found)
        return next(data for n, data in self.events[start:] if n == name)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


@asynccontextmanager
async def served(config: SandboxConfig | None = None) -> AsyncIterator[tuple[str, Starlette]]:
    app = create_app(config or SandboxConfig())
    async with running_server(app) as url:
        yield url, app


@asynccontextmanager
async def peer(url: str, **options: Any) -> AsyncIterator[Peer]:
    # Our own aiohttp session and websocket, closed here: after an aborted link (malformed
    # frame, dead heartbeat) python-engineio leaves them open, which pytest reports later as
    # an "unclosed connection" warning (an error here).
    async with aiohttp.ClientSession() as http:
        client = Peer(http, **options)
        await client.sio.connect(
            url, socketio_path="/socket", transports=["websocket"], wait_timeout=5
        )
        websocket = client.sio.eio.ws  # python-engineio abandons it after an abort: close it
        try:
            yield client
        finally:
            await client.sio.disconnect()
            if websocket is not None and not websocket.closed:
                await websocket.close()


async def call(client: Peer, name: str, payload: Any, timeout: float = STEP_SECONDS) -> Any:
    return await client.sio.call(name, payload, timeout=timeout)


def control_of(app: Starlette) -> SandboxControl:
    control: SandboxControl = app.state.control
    return control


async def test_agent_login_ok_and_auth_failure() -> None:
    async with served() as (url, _app), peer(url) as agent:
        error, reply = await call(agent, "agent.connect", {**LOGIN, "authToken": "bad"})
        assert reply is None
        assert error == {
            "message": "Auth token is invalid",
            "event": "agent.connect",
            "type": "auth_failure",
        }
        error, reply = await call(agent, "agent.connect", LOGIN)
        assert error is None
        assert reply["agent"]["id"] == "bot-1"


async def test_request_before_login_is_403() -> None:
    async with served() as (url, _app), peer(url) as agent:
        error, reply = await call(agent, "visitor.get", {"id": "vi1"})
    assert reply is None
    assert error["type"] == "auth_error"
    assert error["code"] == 403


async def test_a_visitor_conversation_end_to_end() -> None:
    async with served() as (url, app), peer(url) as agent, peer(url) as visitor:
        assert (await call(agent, "agent.connect", LOGIN))[0] is None
        error, hello = await call(visitor, "visitor.connect", {"id": None, "key": "sandbox-key"})
        assert error is None
        assert hello["account"]["status"] == "online"
        visitor_id = hello["visitor"]["id"]

        error, message = await call(
            visitor, "chat.message", {"content": {"type": "text", "text": "Hello?"}}
        )
        assert error is None
        assert message["subType"] == "contact"
        opened = await agent.next_event("chat.opened")
        received = await agent.next_event("chat.message_received")
        assert agent.names().index("chat.opened") < agent.names().index("chat.message_received")
        chat_id = opened["chat"]["id"]
        assert received == {"chatId": chat_id, "message": message}

        at = len(visitor.events)
        ids = {"chatId": chat_id, "visitorId": visitor_id}
        await agent.sio.emit("chat.typing", {**ids, "typing": {"is": True}})
        typing = await visitor.next_event("chat.agent_typing", at)
        assert typing == {"chatId": chat_id, "typing": {"is": True, "text": None}}

        before_echo = len(agent.events)
        error, reply = await call(
            agent,
            "chat.message",
            {**ids, "content": {"type": "text", "text": "Hi, how can I help?"}},
        )
        assert error is None
        assert reply["subType"] == "agent"
        assert reply["agentId"] == "bot-1"
        got = await visitor.next_event("chat.message_received", at)
        assert got["message"] == reply
        echo = await agent.next_event("chat.message_received", before_echo)
        assert echo["message"]["agentId"] == "bot-1"
        await agent.sio.emit("chat.typing", {**ids, "typing": {"is": False}})
        await visitor.wait_for(lambda: visitor.names().count("chat.agent_typing") == 2)

        control = control_of(app)
        transcript = control.transcript(chat_id)["entries"]
        said = [
            (e["kind"], e["by"], e.get("is", e.get("text")))
            for e in transcript
            if e["kind"] != "event"
        ]
        assert said == [
            ("message", "visitor", "Hello?"),
            ("typing", "agent", True),
            ("message", "agent", "Hi, how can I help?"),
            ("typing", "agent", False),
        ]
        sent = [r["name"] for r in control.agent_requests("bot-1")["requests"]]
        assert sent == ["agent.connect", "chat.typing", "chat.message", "chat.typing"]


async def test_track_visitors_filters_visitor_events_per_connection() -> None:
    async with (
        served() as (url, app),
        peer(url) as tracking,
        peer(url) as default,
        peer(url) as switched_off,
    ):
        await call(tracking, "agent.connect", {**LOGIN, "trackVisitors": True})
        await call(default, "agent.connect", LOGIN)
        await call(switched_off, "agent.connect", {**LOGIN, "trackVisitors": True})
        await switched_off.sio.emit("agent.track_visitors", False)
        control = control_of(app)
        await anyio_wait(app, lambda: len(control.agent_requests("bot-1")["requests"]) == 4)

        visitor_id = control.create_visitor(name="Vera")["visitor"]["id"]
        await tracking.next_event("visitor.connected")
        control.visitor_message(visitor_id, "hi")  # an open chat: now everybody hears about her
        for client in (tracking, default, switched_off):
            await client.next_event("chat.message_received")
        assert "visitor.connected" not in default.names()
        assert "visitor.connected" not in switched_off.names()

        async with peer(url) as browser:
            await call(browser, "visitor.connect", {"id": visitor_id, "key": "sandbox-key"})
            await call(browser, "chat.close", None)
            await default.next_event("chat.closed")
            # Chat closed: visitor events reach only the tracking connection again.
        await tracking.next_event("visitor.disconnected")
        await anyio_wait(app, lambda: not any(c["open"] for c in visitors_conns(control)))
        assert "visitor.disconnected" not in default.names()
        assert "visitor.disconnected" not in switched_off.names()


def visitors_conns(control: SandboxControl) -> list[dict[str, Any]]:
    connections: list[dict[str, Any]] = control.connections(side="visitor")["connections"]
    return connections


async def anyio_wait(app: Starlette, predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(STEP_SECONDS):
        await app.state.sandbox.wait_until(predicate)


async def test_drop_fault_makes_the_client_reconnect_and_log_in_again() -> None:
    async with served() as (url, app), peer(url, reconnection=True) as agent:
        control = control_of(app)

        async def login_on_connect() -> None:
            await agent.sio.emit("agent.connect", LOGIN)
            await agent.sio.emit("agent.track_visitors", True)

        agent.sio.on("connect", login_on_connect)
        await login_on_connect()
        await anyio_wait(app, lambda: len(control.agent_requests("bot-1")["requests"]) == 2)
        dropped = control.drop(agent_id="bot-1")["dropped"]
        assert dropped == ["c1"]
        await anyio_wait(app, lambda: len(control.agent_requests("bot-1")["requests"]) == 4)
        requests = control.agent_requests("bot-1")["requests"]
        assert [(r["connId"], r["name"]) for r in requests] == [
            ("c1", "agent.connect"),
            ("c1", "agent.track_visitors"),
            ("c2", "agent.connect"),
            ("c2", "agent.track_visitors"),
        ]
        conns = control.connections(agent_id="bot-1")["connections"]
        assert [c["open"] for c in conns] == [False, True]
        assert conns[1]["trackVisitors"] is True


async def test_server_error_and_logout_faults_reach_the_client() -> None:
    async with served() as (url, app), peer(url) as agent:
        await call(agent, "agent.connect", LOGIN)
        control = control_of(app)
        control.server_error(message="Something broke", type="internal", code=500)
        assert await agent.next_event("server.error") == {
            "message": "Something broke",
            "type": "internal",
            "code": 500,
        }
        control.logout(agent_id="bot-1")
        assert await agent.next_event("logout") == {"reason": "sandbox fault"}


async def test_malformed_frame_fault_disconnects_only_that_client() -> None:
    async with served() as (url, app), peer(url) as victim, peer(url) as bystander:
        await call(victim, "agent.connect", LOGIN)
        await call(bystander, "agent.connect", LOGIN)
        control = control_of(app)
        assert control.malformed(conn_id="c1")["connIds"] == ["c1"]
        await victim.wait_for(lambda: victim.disconnects == 1)
        error, _ = await call(bystander, "agent.logout", {})
        assert error is None
        assert bystander.disconnects == 0


async def test_ack_faults_drop_then_delay() -> None:
    async with served() as (url, app), peer(url) as agent:
        control = control_of(app)
        control.ack_fault(request="agent.connect", action="drop", count=1)
        with pytest.raises(socketio.exceptions.TimeoutError):
            await call(agent, "agent.connect", LOGIN, timeout=0.5)
        control.ack_fault(request="agent.logout", action="delay", delay_seconds=0.2, count=1)
        assert await call(agent, "agent.connect", LOGIN) is not None  # the drop was used up
        error, result = await call(agent, "agent.logout", {})
        assert (error, result) == (None, True)
        assert control.faults()["faults"] == []


async def test_stopped_heartbeat_is_detected_by_the_client() -> None:
    config = SandboxConfig(ping_interval_seconds=0.2, ping_timeout_seconds=0.2)
    async with served(config) as (url, app), peer(url) as agent:
        await call(agent, "agent.connect", LOGIN)
        control = control_of(app)
        control.heartbeat(stop=True, agent_id="bot-1")
        # python-engineio gives up when no ping arrives within pingInterval + pingTimeout.
        await agent.wait_for(lambda: agent.disconnects == 1)
        # The client found out on its own: the sandbox never timed the link out itself.
        assert control.connections()["connections"][0]["closeReason"] is None
