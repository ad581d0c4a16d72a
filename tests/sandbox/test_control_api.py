"""The HTTP control API (in-process, asyncio and trio): scripted visitors, human agents,
transcripts, recordings, long polling and fault switches, checked against a raw agent socket."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from agentbot.sandbox import create_app

from .rawclient import control_of, in_process, raw_socket


async def post(client: httpx.AsyncClient, path: str, body: object = None) -> dict:  # type: ignore[type-arg]
    response = await client.post(path, json=body if body is not None else {})
    assert response.status_code == 200, response.text
    result: dict = response.json()  # type: ignore[type-arg]
    return result


async def test_health_and_public_config_without_tokens(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/health")).json() == {"ok": True}
    config = (await client.get("/api/config")).json()
    assert config["accountKey"] == "sandbox-key"
    assert [(a["id"], a["role"]) for a in config["agents"]] == [
        ("bot-1", "bot"),
        ("human-1", "human"),
    ]
    assert "token" not in str(config).lower()


async def test_scripted_visitor_opens_a_chat_the_agent_sees(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as agent:
        await agent.login()
        visitor = (
            await post(client, "/api/visitors", {"name": "Vera", "pageUrl": "https://shop/"})
        )["visitor"]
        assert visitor["pageUrl"] == "https://shop/"
        result = await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "Hi!"})
        chat_id = result["chat"]["id"]
        name, opened = await agent.event()
        assert (name, opened["chat"]["id"]) == ("chat.opened", chat_id)
        name, received = await agent.event()
        assert name == "chat.message_received"
        assert received["message"] == result["message"]
        chats = (await client.get("/api/chats?status=pending")).json()["chats"]
        assert [c["id"] for c in chats] == [chat_id]


async def test_human_agent_joins_writes_types_and_closes(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as bot, raw_socket(client) as visitor:
        await bot.login()
        error, hello = await visitor.visitor_login(name="Vera")
        assert error is None
        error, _ = await visitor.request(
            "chat.message", {"content": {"type": "text", "text": "hey"}}
        )
        chat_id = (await client.get("/api/chats")).json()["chats"][0]["id"]
        assert (await bot.event())[0] == "chat.opened"
        assert (await bot.event())[0] == "chat.message_received"

        joined = await post(client, f"/api/chats/{chat_id}/join", {})
        assert joined["chat"]["assignedIds"] == ["human-1"]
        name, event = await bot.event()
        assert (name, event["agent"]["id"]) == ("chat.agent_joined", "human-1")
        assert (await visitor.event())[0] == "chat.agent_joined"

        await post(client, f"/api/chats/{chat_id}/typing", {"is": True})
        name, event = await bot.event()
        assert (name, event["agentId"], event["typing"]["is"]) == (
            "chat.agent_typing",
            "human-1",
            True,
        )
        assert (await visitor.event()) == (
            "chat.agent_typing",
            {"chatId": chat_id, "typing": {"is": True, "text": None}},
        )

        written = await post(client, f"/api/chats/{chat_id}/messages", {"text": "Alice here"})
        assert written["message"]["agentId"] == "human-1"
        assert (await bot.event())[1]["message"]["agentId"] == "human-1"
        assert (await visitor.event())[1]["message"]["content"]["text"] == "Alice here"

        closed = await post(client, f"/api/chats/{chat_id}/close", {"by": "agent"})
        assert closed["chat"]["status"] == "closed"
        name, event = await bot.event()
        assert (name, event["closeType"]) == ("chat.closed", "agent_close")
        # Writing into a closed chat is refused.
        error, _ = await bot.request(
            "chat.message",
            {
                "chatId": chat_id,
                "visitorId": hello["visitor"]["id"],
                "content": {"type": "text", "text": "x"},
            },
        )
        assert error["type"] == "chat_closed"


async def test_transcript_has_timestamps_in_order(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    visitor = (await post(client, "/api/visitors", {}))["visitor"]
    chat_id = (await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "one"}))[
        "chat"
    ]["id"]
    await post(client, f"/api/visitors/{visitor['id']}/typing", {"is": True})
    await post(client, f"/api/visitors/{visitor['id']}/typing", {"is": False})
    await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "two"})
    entries = (await client.get(f"/api/chats/{chat_id}/transcript")).json()["entries"]
    assert [(e["kind"], e.get("event") or e.get("text", e.get("is"))) for e in entries] == [
        ("event", "chat.opened"),
        ("message", "one"),
        ("typing", True),
        ("typing", False),
        ("message", "two"),
    ]
    seqs = [e["seq"] for e in entries]
    times = [e["t"] for e in entries]
    assert seqs == sorted(seqs)
    assert times == sorted(times)
    later = (await client.get(f"/api/chats/{chat_id}/transcript?after={seqs[2]}")).json()["entries"]
    assert [e["seq"] for e in later] == seqs[3:]


async def test_long_poll_returns_when_the_entry_arrives(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    visitor = (await post(client, "/api/visitors", {}))["visitor"]
    chat_id = (await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "one"}))[
        "chat"
    ]["id"]
    last = (await client.get(f"/api/chats/{chat_id}/transcript")).json()["entries"][-1]["seq"]
    results: list[dict] = []  # type: ignore[type-arg]

    async def poll() -> None:
        response = await client.get(f"/api/chats/{chat_id}/transcript?after={last}&wait=20")
        results.append(response.json())

    async with anyio.create_task_group() as tg:
        tg.start_soon(poll)
        await anyio.wait_all_tasks_blocked()
        assert results == []
        control_of(app).visitor_message(visitor["id"], "two")
    assert results[0]["timedOut"] is False
    assert [e.get("text") for e in results[0]["entries"]] == ["two"]


async def test_long_poll_times_out_empty(client: httpx.AsyncClient) -> None:
    visitor = (await post(client, "/api/visitors", {}))["visitor"]
    chat_id = (await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "one"}))[
        "chat"
    ]["id"]
    response = await client.get(f"/api/chats/{chat_id}/transcript?after=1000000&wait=0.05")
    assert response.json() == {"chatId": chat_id, "entries": [], "timedOut": True}


async def test_connection_recordings_are_listed_and_filtered(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as agent:
        await agent.login(track_visitors=True)
        await agent.emit("agent.track_visitors", False)
        await agent.request("agent.logout", {})
        conns = (await client.get("/api/connections?side=agent&agentId=bot-1")).json()[
            "connections"
        ]
        assert len(conns) == 1
        assert conns[0]["trackVisitors"] is False
        conn_id = conns[0]["id"]
        requests = (await client.get(f"/api/connections/{conn_id}/requests")).json()["requests"]
        assert [(r["name"], r["ackId"]) for r in requests] == [
            ("agent.connect", 0),
            ("agent.track_visitors", None),
            ("agent.logout", 1),
        ]
        assert requests[0]["args"][0]["authToken"] == "[redacted]"
        frames = (await client.get(f"/api/connections/{conn_id}/frames")).json()["frames"]
        assert [f["dir"] for f in frames[:3]] == ["out", "out", "in"]  # open, 40, agent.connect
        events = (await client.get(f"/api/connections/{conn_id}/events")).json()["events"]
        assert events == []
        by_agent = (await client.get("/api/agents/bot-1/requests")).json()["requests"]
        assert [r["connId"] for r in by_agent] == [conn_id] * 3


async def test_fault_endpoints(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as agent, raw_socket(client) as other:
        await agent.login()
        await other.login(agent_id="human-1", token="human-token")
        name, payload = await agent.event()  # S4: the full agent
        assert (name, payload["id"], payload["status"]) == ("agent.connected", "human-1", "online")
        fault = (
            await post(
                client, "/api/faults/ack", {"request": "agent.logout", "action": "drop", "count": 1}
            )
        )["fault"]
        assert (fault["request"], fault["action"], fault["remaining"]) == (
            "agent.logout",
            "drop",
            1,
        )
        assert len((await client.get("/api/faults")).json()["faults"]) == 1

        sent = await post(
            client, "/api/faults/server-error", {"agentId": "bot-1", "message": "boom", "code": 500}
        )
        assert sent["connIds"] == ["c1"]
        assert await agent.event() == ("server.error", {"message": "boom", "code": 500})
        await post(client, "/api/faults/logout", {"connId": "c1"})
        assert await agent.event() == ("logout", {"reason": "sandbox fault"})
        await post(client, "/api/faults/malformed", {"connId": "c1", "frame": "9nine"})
        assert await agent.recv() == "9nine"
        await post(client, "/api/faults/heartbeat", {"agentId": "bot-1", "stop": True})
        faults = (await client.get("/api/faults")).json()["faults"]
        assert {f["kind"] for f in faults} == {"ack", "heartbeat"}
        assert (await client.delete("/api/faults")).json() == {"ok": True}
        assert (await client.get("/api/faults")).json()["faults"] == []

        dropped = await post(client, "/api/faults/drop", {"connId": "c1"})
        assert dropped == {"dropped": ["c1"]}
        assert (await agent.closed()).code == 1001
        # The other connection is untouched.
        assert await other.request("agent.logout", {}) == [None, True]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/visitors/nobody/messages", {"text": "x"}, 404),
        ("POST", "/api/visitors", [1, 2], 400),
        ("GET", "/api/chats/nope", None, 404),
        ("GET", "/api/connections/c99/frames", None, 404),
        ("GET", "/api/connections?side=robot", None, 400),
        ("GET", "/api/chats/x/transcript?wait=abc", None, 400),
        ("POST", "/api/faults/ack", {"request": "x", "action": "explode"}, 400),
        ("POST", "/api/faults/ack", {"request": "x", "action": "delay"}, 400),
        ("POST", "/api/chats/x/join", {"agentId": 5}, 400),
    ],
)
async def test_bad_control_calls_get_typed_errors(
    client: httpx.AsyncClient, method: str, path: str, body: object, status: int
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] in ("not_found", "bad_request")
    assert error["message"]


async def test_unparseable_body_is_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/visitors", content=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"


async def test_reset_forgets_everything_and_drops_sockets(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as agent:
        await agent.login()
        visitor = (await post(client, "/api/visitors", {}))["visitor"]
        await post(client, f"/api/visitors/{visitor['id']}/messages", {"text": "x"})
        assert await post(client, "/api/reset") == {"ok": True}
        assert (await agent.closed()).code == 1001
    assert (await client.get("/api/chats")).json()["chats"] == []
    assert (await client.get("/api/visitors")).json()["visitors"] == []
    assert (await client.get("/api/connections")).json()["connections"] == []


async def test_chat_page_and_console_are_served_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/console")).status_code == 200


async def test_pages_can_be_left_out() -> None:
    async with in_process(create_app(pages=False)) as http:
        assert (await http.get("/")).status_code == 404
        assert (await http.get("/api/health")).status_code == 200


async def test_recordings_keep_only_the_most_recent_entries() -> None:
    from agentbot.sandbox import SandboxConfig

    app = create_app(SandboxConfig(max_recorded_frames=4))
    async with in_process(app) as client, raw_socket(client) as agent:
        await agent.login()
        for enabled in (True, False, True, False, True):
            await agent.emit("agent.track_visitors", enabled)
        await agent.request("agent.logout", {})
        control = control_of(app)
        (conn,) = control.connections(side="agent")["connections"]
        requests = control.requests(conn["id"])["requests"]
        assert [r["name"] for r in requests] == ["agent.track_visitors"] * 3 + ["agent.logout"]
        assert len(control.frames(conn["id"])["frames"]) == 4
