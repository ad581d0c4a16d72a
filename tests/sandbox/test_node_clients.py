"""Conformance with node peers nobody here wrote, against the sandbox under uvicorn:
socket.io-client 2.x as an agent (Engine.IO 3 / Socket.IO 4, the official SDK's generation)
and Smartsupp's own smartsupp-websocket VisitorClient as a website visitor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from interop.node import NodePeers
from starlette.applications import Starlette

from agentbot.sandbox import SandboxConfig, SandboxControl, create_app, running_server

from .nodepeer import STEP_SECONDS, NodePeer

pytestmark = [pytest.mark.interop, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

LOGIN = {"version": 5, "id": "bot-1", "key": "sandbox-key", "authToken": "bot-token"}
VISITOR = {"id": None, "key": "sandbox-key", "name": "Vera", "lang": "en"}


@asynccontextmanager
async def served(config: SandboxConfig | None = None) -> AsyncIterator[tuple[str, Starlette]]:
    app = create_app(config or SandboxConfig())
    async with running_server(app) as url:
        yield url, app


def control_of(app: Starlette) -> SandboxControl:
    control: SandboxControl = app.state.control
    return control


async def sandbox_wait(app: Starlette, predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(STEP_SECONDS):
        await app.state.sandbox.wait_until(predicate)


async def test_socketio2_agent_login_auth_failure_and_403(node_peers: NodePeers) -> None:
    async with served() as (url, _app), NodePeer.run(node_peers, role="agent", url=url) as agent:
        await agent.wait_connects(1)
        error, result = await agent.call("chat.typing", {"chatId": "x"})
        assert result is None
        assert error["type"] == "auth_error"
        assert error["code"] == 403
        error, result = await agent.call("agent.connect", {**LOGIN, "authToken": "wrong"})
        assert error == {
            "message": "Auth token is invalid",
            "event": "agent.connect",
            "type": "auth_failure",
        }
        error, result = await agent.call("agent.connect", LOGIN)
        assert error is None
        assert result["agent"]["id"] == "bot-1"


async def test_official_visitor_client_chats_with_a_socketio2_agent(
    node_peers: NodePeers,
) -> None:
    async with (
        served() as (url, app),
        NodePeer.run(node_peers, role="agent", url=url) as agent,
        NodePeer.run(node_peers, role="visitor", url=url, data=VISITOR) as visitor,
    ):
        await agent.wait_connects(1)
        assert (await agent.call("agent.connect", LOGIN))[0] is None
        error, hello = await visitor.ask("connect")
        assert error is None
        assert hello["account"]["status"] == "online"
        assert hello["visitor"]["name"] == "Vera"
        visitor_id = hello["visitor"]["id"]

        error, message = await visitor.ask("message", text="Do you ship to Norway?")
        assert error is None
        assert message["subType"] == "contact"
        opened = await agent.wait_event("chat.opened")
        received = await agent.wait_event("chat.message_received")
        names = agent.event_names()
        assert names.index("chat.opened") < names.index("chat.message_received")
        chat_id = opened["chat"]["id"]
        assert opened["chat"]["visitorId"] == visitor_id
        assert received["message"]["content"]["text"] == "Do you ship to Norway?"

        ids = {"chatId": chat_id, "visitorId": visitor_id}
        await agent.emit("chat.typing", {**ids, "typing": {"is": True}})
        typing = await visitor.wait_event("chat.agent_typing")
        assert typing == {"chatId": chat_id, "typing": {"is": True, "text": None}}
        error, reply = await agent.call(
            "chat.message", {**ids, "content": {"type": "text", "text": "Yes, we do."}}
        )
        assert error is None
        got = await visitor.wait_event("chat.message_received")
        assert got["message"] == reply
        assert got["message"]["subType"] == "agent"
        await agent.emit("chat.typing", {**ids, "typing": {"is": False}})
        assert (await visitor.wait_event("chat.agent_typing", 2))["typing"]["is"] is False

        # The visitor types; a human agent joins through the control API.
        await visitor.send("typing", **{"is": True})
        assert (await agent.wait_event("chat.visitor_typing"))["typing"]["is"] is True
        control_of(app).agent_join(chat_id)
        joined = await visitor.wait_event("chat.agent_joined")
        assert joined["agent"]["id"] == "human-1"
        assert (await agent.wait_event("chat.agent_joined"))["chatId"] == chat_id

        error, _ = await visitor.ask("close_chat")
        assert error is None
        closed = await agent.wait_event("chat.closed")
        assert closed["closeType"] == "visitor_close"
        await visitor.wait_event("chat.closed")
        error, _ = await visitor.ask("rate", messageId=reply["id"], value=5, text="Great")
        assert error is None
        rated = await agent.wait_event("chat.rated")
        assert rated["rating"] == {"value": 5, "text": "Great"}

        transcript = control_of(app).transcript(chat_id)["entries"]
        kinds = [(e["kind"], e["by"]) for e in transcript if e["kind"] != "event"]
        assert kinds == [
            ("message", "visitor"),
            ("typing", "agent"),
            ("message", "agent"),
            ("typing", "agent"),
            ("typing", "visitor"),
        ]


async def test_dropped_sockets_reconnect_and_the_visitor_resumes(node_peers: NodePeers) -> None:
    async with (
        served() as (url, app),
        NodePeer.run(node_peers, role="agent", url=url) as agent,
        NodePeer.run(node_peers, role="visitor", url=url, data=VISITOR) as visitor,
    ):
        control = control_of(app)
        await agent.wait_connects(1)
        await agent.call("agent.connect", LOGIN)
        await agent.emit("agent.track_visitors", True)
        _, hello = await visitor.ask("connect")
        visitor_id = hello["visitor"]["id"]
        await visitor.ask("message", text="hello")
        await sandbox_wait(app, lambda: len(control.agent_requests("bot-1")["requests"]) == 2)

        assert len(control.drop()["dropped"]) == 2
        await agent.wait_connects(2)
        await agent.call("agent.connect", LOGIN)
        await agent.emit("agent.track_visitors", True)
        # The official SDK re-sends visitor.connect with its id on its own: same visitor.
        await sandbox_wait(
            app,
            lambda: any(
                c["open"] and c["authenticated"]
                for c in control.connections(visitor_id=visitor_id)["connections"]
            ),
        )
        assert len(control.visitors()["visitors"]) == 1
        await sandbox_wait(app, lambda: len(control.agent_requests("bot-1")["requests"]) == 4)
        requests = control.agent_requests("bot-1")["requests"]
        by_conn: dict[str, list[str]] = {}
        for request in requests:
            by_conn.setdefault(request["connId"], []).append(request["name"])
        assert list(by_conn.values()) == [["agent.connect", "agent.track_visitors"]] * 2


async def test_malformed_frame_breaks_only_that_link(node_peers: NodePeers) -> None:
    async with (
        served() as (url, app),
        NodePeer.run(node_peers, role="agent", url=url, reconnection=False) as victim,
        NodePeer.run(node_peers, role="agent", url=url, reconnection=False) as bystander,
    ):
        await victim.wait_connects(1)
        await bystander.wait_connects(1)
        await victim.call("agent.connect", LOGIN)
        human = {**LOGIN, "id": "human-1", "authToken": "human-token"}
        await bystander.call("agent.connect", human)
        assert len(control_of(app).malformed(agent_id="bot-1")["connIds"]) == 1
        await victim.wait_for(lambda: victim.count("disconnect") == 1)
        assert (await bystander.call("agent.logout", {}))[1] is True
        assert bystander.count("disconnect") == 0


async def test_stopped_heartbeat_is_detected_by_socketio2(node_peers: NodePeers) -> None:
    config = SandboxConfig(ping_interval_seconds=0.2, ping_timeout_seconds=0.2)
    async with (
        served(config) as (url, app),
        NodePeer.run(node_peers, role="agent", url=url, reconnection=False) as agent,
    ):
        await agent.wait_connects(1)
        await agent.call("agent.connect", LOGIN)
        control_of(app).heartbeat(stop=True, agent_id="bot-1")
        await agent.wait_for(lambda: agent.count("disconnect") == 1)
        reason: Any = next(x["reason"] for x in agent.lines if x["type"] == "disconnect")
        assert reason == "ping timeout"
