"""The sandbox's wire behaviour, frame by frame, with golden frames written by hand."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from agentbot.api import AgentConnected, decode_event
from agentbot.sandbox import SandboxConfig, create_app

from .rawclient import control_of, in_process, raw_socket


@pytest.mark.parametrize("eio", [3, 4])
async def test_open_packet_announces_heartbeat_and_sio_connect(
    client: httpx.AsyncClient, eio: int
) -> None:
    async with raw_socket(client, eio=eio) as raw:
        assert raw.open_packet["upgrades"] == []
        assert raw.open_packet["pingInterval"] == 25000
        assert raw.open_packet["pingTimeout"] == 20000
        assert ("maxPayload" in raw.open_packet) is (eio == 4)


async def test_missing_eio_means_engineio_3(client: httpx.AsyncClient) -> None:
    async with raw_socket(client, eio=3, query="transport=websocket") as raw:
        assert "maxPayload" not in raw.open_packet


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("EIO=3&transport=polling", "only transport=websocket"),
        ("EIO=5&transport=websocket", "EIO must be 3 or 4"),
    ],
)
async def test_unsupported_transport_or_version_is_refused(
    client: httpx.AsyncClient, query: str, reason: str
) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        await raw_socket(client, query=query, handshake=False).__aenter__()
    assert (refused.value.code, refused.value.reason) == (1008, reason)


async def test_http_polling_gets_engineio_transport_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get("/socket/?EIO=3&transport=polling")
    assert response.status_code == 400
    assert response.json() == {"code": 0, "message": "Transport unknown"}


@pytest.mark.parametrize("eio", [3, 4])
async def test_agent_login_reply_matches_the_seed_shape(
    client: httpx.AsyncClient, eio: int
) -> None:
    async with raw_socket(client, eio=eio) as raw:
        error, reply = await raw.login()
    assert error is None
    assert reply["serverVersion"] == 3
    assert reply["agent"]["id"] == "bot-1"
    assert reply["agent"]["status"] == "online"
    assert {a["id"] for a in reply["account"]["agents"]} == {"bot-1", "human-1"}
    assert reply["account"]["groups"] == [{"key": "support", "name": "Support"}]


async def test_wrong_token_gets_the_seeds_auth_failure_frame(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.send(
            '420["agent.connect",{"version":5,"id":"bot-1","key":"sandbox-key","authToken":"nope"}]'
        )
        assert await raw.recv() == (
            '430[{"message":"Auth token is invalid","event":"agent.connect",'
            '"type":"auth_failure"},null]'
        )
        # The connection stays usable: a correct login still works.
        error, _reply = await raw.login()
        assert error is None


@pytest.mark.parametrize("field", ["id", "key"])
async def test_wrong_agent_or_account_key_is_auth_failure(
    client: httpx.AsyncClient, field: str
) -> None:
    payload = {"version": 5, "id": "bot-1", "key": "sandbox-key", "authToken": "bot-token"}
    payload[field] = "wrong"
    async with raw_socket(client) as raw:
        error, reply = await raw.request("agent.connect", payload)
    assert reply is None
    assert error == {
        "message": "Auth token is invalid",
        "event": "agent.connect",
        "type": "auth_failure",
    }


async def test_legacy_authtoken_field_logs_in(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        error, _ = await raw.request(
            "agent.connect",
            {"version": 5, "id": "bot-1", "key": "sandbox-key", "authtoken": "bot-token"},
        )
    assert error is None


@pytest.mark.parametrize("eio", [3, 4])
async def test_request_before_login_is_auth_error_403(client: httpx.AsyncClient, eio: int) -> None:
    async with raw_socket(client, eio=eio) as raw:
        await raw.send(
            '427["chat.message",{"chatId":"ch1","visitorId":"vi1","content":{"type":"text","text":"hi"}}]'
        )
        frame = await raw.recv()
    assert frame.startswith("437")
    error, result = json.loads(frame[3:])
    assert result is None
    assert error["type"] == "auth_error"
    assert error["code"] == 403
    assert error["event"] == "chat.message"


async def test_fire_and_forget_request_before_login_gets_server_error(
    client: httpx.AsyncClient,
) -> None:
    async with raw_socket(client) as raw:
        await raw.emit("agent.track_visitors", True)
        name, payload = await raw.event()
    assert name == "server.error"
    assert payload["type"] == "auth_error"
    assert payload["code"] == 403
    assert payload["event"] == "agent.track_visitors"


async def test_unknown_request_is_an_error_reply_or_server_error(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.login()
        error, result = await raw.request("chat.fly_to_the_moon", {})
        assert result is None
        assert error["type"] == "unknown_request"
        await raw.emit("chat.fly_to_the_moon", {})
        name, payload = await raw.event()
        assert (name, payload["type"]) == ("server.error", "unknown_request")


async def test_malformed_request_payload_is_bad_request(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.login()
        error, result = await raw.request("chat.message", {"chatId": 7})
    assert result is None
    assert error["type"] == "bad_request"
    assert error["event"] == "chat.message"


async def test_logout_then_not_found(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.login()
        assert await raw.request("agent.logout", {}) == [None, True]
        error, _ = await raw.request("agent.logout", {})
        assert error == {"message": "Agent not found", "event": "agent.logout", "type": "not_found"}


@pytest.mark.parametrize("eio", [3, 4])
async def test_malformed_frame_closes_only_that_connection(
    app: Starlette, client: httpx.AsyncClient, eio: int
) -> None:
    async with raw_socket(client, eio=eio) as good, raw_socket(client, eio=eio) as bad:
        await good.login()
        await bad.login()
        await bad.send("4{this is not socket.io")
        with pytest.raises(WebSocketDisconnect) as closed:
            await bad.recv()
        assert closed.value.code == 1002
        assert "protocol error" in (closed.value.reason or "")
        # The other connection is unaffected.
        assert await good.request("agent.track_visitors", True) == [None, None]
        control = control_of(app)
        conns = {c["id"]: c for c in control.connections()["connections"]}
        assert conns["c1"]["open"]
        assert not conns["c2"]["open"]
        assert "protocol error" in conns["c2"]["closeReason"]


async def test_binary_frame_closes_with_unsupported_data(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.ws.send_bytes(b"\x04binary")
        with pytest.raises(WebSocketDisconnect) as closed:
            await raw.recv()
    assert closed.value.code == 1003


async def test_frame_over_max_payload_is_refused() -> None:
    app = create_app(SandboxConfig(max_payload_bytes=200))
    async with in_process(app) as http, raw_socket(http, eio=4) as raw:
        await raw.emit("chat.message", {"text": "x" * 400})
        with pytest.raises(WebSocketDisconnect) as closed:
            await raw.recv()
    assert closed.value.code in (1002, 1009)


async def test_eio3_ping_gets_pong_and_the_heartbeat_fault_swallows_it(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    control = control_of(app)
    async with raw_socket(client) as raw:
        await raw.login()
        await raw.send("2")
        assert await raw.recv() == "3"
        control.heartbeat(stop=True, agent_id="bot-1")
        await raw.send("2")
        # No pong: the next frame is the answer to a request sent after the ping.
        assert await raw.request("agent.logout", {}) == [None, True]
        control.heartbeat(stop=False, agent_id="bot-1")
        await raw.send("2probe")
        assert await raw.recv() == "3probe"


async def test_eio4_server_pings_on_the_sandbox_clock() -> None:
    now = [1000.0]
    app = create_app(
        SandboxConfig(clock=lambda: now[0], ping_interval_seconds=25, ping_timeout_seconds=20)
    )
    async with in_process(app) as http, raw_socket(http, eio=4) as raw:
        await raw.login()
        now[0] += 25.0
        app.state.sandbox.wake_all()
        assert await raw.recv() == "2"
        await raw.send("3")
        assert await raw.request("agent.track_visitors", False) == [None, None]


async def test_eio4_pong_never_sent_closes_the_connection() -> None:
    now = [0.0]
    app = create_app(
        SandboxConfig(clock=lambda: now[0], ping_interval_seconds=1, ping_timeout_seconds=1)
    )
    async with in_process(app) as http, raw_socket(http, eio=4) as raw:
        now[0] = 1.0
        app.state.sandbox.wake_all()
        assert await raw.recv() == "2"
        now[0] = 2.5
        app.state.sandbox.wake_all()
        await raw.closed()
    assert "ping timeout" in control_of(app).connections()["connections"][0]["closeReason"]


async def test_slow_consumer_is_disconnected_without_blocking_others() -> None:
    app = create_app(SandboxConfig(outgoing_queue_frames=8))
    control = control_of(app)
    async with in_process(app) as http, raw_socket(http) as slow, raw_socket(http) as visitor:
        await slow.login()
        await visitor.visitor_login()
        # Everything below runs without yielding, so the slow connection's queue overflows.
        for i in range(10):
            vid = control.create_visitor(name=f"v{i}")["visitor"]["id"]
            control.visitor_message(vid, "hello")
        assert (await slow.closed()).code == 1008
        # The visitor connection is still served.
        error, message = await visitor.request(
            "chat.message", {"content": {"type": "text", "text": "hi"}}
        )
        assert error is None
        assert message["content"]["text"] == "hi"


async def test_recordings_never_hold_credentials(app: Starlette, client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as raw:
        await raw.login()
    control = control_of(app)
    frames = json.dumps(control.frames("c1"))
    requests = json.dumps(control.requests("c1"))
    for secret in ("bot-token", "sandbox-key"):
        assert secret not in frames
        assert secret not in requests
    assert control.requests("c1")["requests"][0]["name"] == "agent.connect"


async def test_two_backends_run_concurrent_connections(client: httpx.AsyncClient) -> None:
    async def login_once() -> None:
        async with raw_socket(client) as raw:
            error, _ = await raw.login()
            assert error is None

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(login_once)


async def test_a_second_namespace_is_refused_and_the_first_stays_up(
    client: httpx.AsyncClient,
) -> None:
    async with raw_socket(client, eio=4) as raw:
        await raw.send("40/admin,")
        assert await raw.recv() == '44/admin,{"message":"namespace \'/admin\' is not served here"}'
        await raw.send('420["agent.connect",{"version":5}]')
        reply = await raw.recv()
        assert reply.startswith("430[")


async def test_other_agents_hear_when_a_human_comes_online_and_leaves(
    client: httpx.AsyncClient,
) -> None:
    async with raw_socket(client) as bot:
        await bot.login()
        async with raw_socket(client) as human:
            await human.login(agent_id="human-1", token="human-token")
            name, payload = await bot.event()
            # S4 AgentConnectedEvent: the full agent; AgentDisconnectedEvent: {id}.
            event = decode_event(name, payload)
            assert isinstance(event, AgentConnected)
            assert (event.id, event.status, event.nickname) == ("human-1", "online", "alice")
        assert await bot.event() == ("agent.disconnected", {"id": "human-1"})
