"""Client throughput: AgentClient vs python-socketio's AsyncClient vs a raw websocket loop.

All three read from the same fast frame source (a `websockets` server in a separate process,
so it runs on the other core), in the same run, and the figures are printed side by side
with ratios: absolute numbers on a shared machine are noise, ratios are the result.

1. Events/s: the source sends N ``chat.message_received`` frames (~250 bytes); each client
   decodes them (AgentClient all the way to typed ``ChatMessageReceived`` objects,
   python-socketio to its handler's dict arguments, the raw loop to ``json.loads`` output).
2. Acked requests: ``visitor.get`` round trips with 100 in flight; requests/s and p50/p99
   latency.

Run: ``python benchmarks/client_throughput.py [--events N] [--requests N] [--rounds R]``.
Not a test: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

MESSAGE = {
    "id": "msg_4fj39sk2",
    "type": "message",
    "subType": "contact",
    "chatId": "co2wgLaNKxtOe",
    "visitorId": "viJqfKK4RIOh",
    "createdAt": "2026-11-26T10:00:00.000Z",
    "content": {"type": "text", "text": "Hello, I ordered a blue sweater last week. Where is it?"},
}
EVENT_FRAME = "42" + json.dumps(
    ["chat.message_received", {"chatId": "co2wgLaNKxtOe", "message": MESSAGE}],
    separators=(",", ":"),
)
AGENT = {
    "id": "1",
    "status": "online",
    "groups": [],
    "nickname": "bot",
    "fullname": "Bot",
    "description": "",
    "avatar": None,
}
CONNECT_REPLY = {"serverVersion": 3, "agent": AGENT, "account": {"agents": [AGENT], "groups": []}}
IN_FLIGHT = 100


# ------------------------------------------------------------------ the frame source (subprocess)


def _server_frame(text: str) -> bytes:
    """One unmasked WebSocket text frame (RFC 6455 §5.2), as a server sends it."""
    data = text.encode()
    if len(data) < 126:
        return bytes([0x81, len(data)]) + data
    return bytes([0x81, 126]) + len(data).to_bytes(2, "big") + data


def _source_main(port_queue: Any, events: int) -> None:
    import websockets.asyncio.server as ws_server

    async def handler(ws: Any) -> None:
        path = ws.request.path
        eio4 = "EIO=4" in path
        raw = "raw=1" in path
        open_payload = {"sid": "s1", "upgrades": [], "pingInterval": 60000, "pingTimeout": 60000}
        if eio4:
            open_payload["maxPayload"] = 10_000_000
        if not raw:
            await ws.send("0" + json.dumps(open_payload))
            if not eio4:
                await ws.send("40")
        async for frame in ws:
            if frame == "40" or frame.startswith("40{"):
                await ws.send('40{"sid":"n1"}')
                continue
            if frame.startswith("42"):
                body = frame[2:]
                bracket = body.index("[")
                ack = body[:bracket]
                name = json.loads(body[bracket:])[0]
                if name == "agent.connect":
                    await ws.send(f"43{ack}" + json.dumps([None, CONNECT_REPLY]))
                elif name == "agent.track_visitors" and json.loads(body[bracket:])[1] is True:
                    # Pre-encoded frames written straight to the transport: the source must
                    # be much faster than any client it feeds.
                    ws.transport.write(_server_frame(EVENT_FRAME) * events)
                elif ack:
                    await ws.send(f'43{ack}[null,{{"id":"v1","visits":1}}]')

    async def main() -> None:
        async with ws_server.serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as srv:
            port_queue.put(srv.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


# ------------------------------------------------------------------ the three clients


async def agentbot_events(url: str, n: int, eio: int) -> float:
    from agentbot.api import ChatMessageReceived
    from agentbot.client import AgentClient

    # track_visitors=True makes the client send `agent.track_visitors true` after login,
    # which is the source's cue to start sending events.
    options: dict[str, Any] = {"eio": eio, "event_buffer": 1024, "track_visitors": True}
    async with AgentClient(url, agent_id="1", key="k", **options) as client:
        stream = client.events()
        count = 0
        start = 0.0
        async for event in stream:
            assert isinstance(event, ChatMessageReceived)
            if count == 0:
                start = time.perf_counter()
            count += 1
            if count == n:
                break
        return (n - 1) / (time.perf_counter() - start)


async def psio_events(url: str, n: int) -> float:
    import socketio

    done = asyncio.Event()
    state = {"count": 0, "start": 0.0, "end": 0.0}
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("chat.message_received")
    async def on_message(data: Any) -> None:
        if state["count"] == 0:
            state["start"] = time.perf_counter()
        state["count"] += 1
        if state["count"] == n:
            state["end"] = time.perf_counter()
            done.set()

    await sio.connect(url, socketio_path="socket", transports=["websocket"])
    await sio.call("agent.connect", {"version": 5, "id": "1", "key": "k"})
    await sio.emit("agent.track_visitors", True)
    await done.wait()
    await sio.disconnect()
    return (n - 1) / (state["end"] - state["start"])


async def raw_events(port: int, n: int) -> float:
    import websockets.asyncio.client as ws_client

    uri = f"ws://127.0.0.1:{port}/socket/?EIO=4&transport=websocket&raw=1"
    async with ws_client.connect(uri, compression=None, max_size=None) as ws:
        await ws.send('42["agent.track_visitors",true]')
        count = 0
        start = 0.0
        async for frame in ws:
            if frame.startswith("42"):
                json.loads(frame[2:])
                if count == 0:
                    start = time.perf_counter()
                count += 1
                if count == n:
                    break
        return (n - 1) / (time.perf_counter() - start)


async def _round_trips(call: Callable[[], Awaitable[Any]], total: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[None] = asyncio.Queue()
    for _ in range(total):
        queue.put_nowait(None)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return total / (time.perf_counter() - start), latencies


async def agentbot_requests(url: str, total: int, eio: int) -> tuple[float, list[float]]:
    from agentbot.api import VisitorGet
    from agentbot.client import AgentClient

    async with AgentClient(url, agent_id="1", key="k", eio=eio) as client:
        return await _round_trips(lambda: client.request(VisitorGet(id="v1")), total)


async def psio_requests(url: str, total: int) -> tuple[float, list[float]]:
    import socketio

    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, socketio_path="socket", transports=["websocket"])
    await sio.call("agent.connect", {"version": 5, "id": "1", "key": "k"})
    try:
        return await _round_trips(lambda: sio.call("visitor.get", {"id": "v1"}), total)
    finally:
        await sio.disconnect()


async def raw_requests(port: int, total: int) -> tuple[float, list[float]]:
    import websockets.asyncio.client as ws_client

    uri = f"ws://127.0.0.1:{port}/socket/?EIO=4&transport=websocket&raw=1"
    async with ws_client.connect(uri, compression=None, max_size=None) as ws:
        waiters: dict[int, asyncio.Future[Any]] = {}
        next_id = 0

        async def reader() -> None:
            async for frame in ws:
                if frame.startswith("43"):
                    body = frame[2:]
                    bracket = body.index("[")
                    waiters.pop(int(body[:bracket])).set_result(json.loads(body[bracket:]))

        async def call() -> Any:
            nonlocal next_id
            ack_id, next_id = next_id, next_id + 1
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            waiters[ack_id] = future
            await ws.send(f'42{ack_id}["visitor.get",{{"id":"v1"}}]')
            return await future

        task = asyncio.create_task(reader())
        try:
            return await _round_trips(call, total)
        finally:
            task.cancel()


# ------------------------------------------------------------------ reporting


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _pct(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small counts, one round")
    args = parser.parse_args()
    if args.quick:
        args.events, args.requests, args.rounds = 5_000, 2_000, 1

    ctx = multiprocessing.get_context("spawn")
    port_queue = ctx.Queue()
    source = ctx.Process(target=_source_main, args=(port_queue, args.events), daemon=True)
    source.start()
    port = port_queue.get(timeout=30)
    url = f"http://127.0.0.1:{port}"
    try:
        results: dict[str, list[float]] = {}
        req: dict[str, list[tuple[float, list[float]]]] = {}
        for _ in range(args.rounds):
            for name, run in (
                ("agentbot EIO3", lambda: agentbot_events(url, args.events, 3)),
                ("agentbot EIO4", lambda: agentbot_events(url, args.events, 4)),
                ("python-socketio", lambda: psio_events(url, args.events)),
                ("raw websockets+json", lambda: raw_events(port, args.events)),
            ):
                results.setdefault(name, []).append(asyncio.run(run()))
            for name, run_req in (
                ("agentbot EIO4", lambda: agentbot_requests(url, args.requests, 4)),
                ("python-socketio", lambda: psio_requests(url, args.requests)),
                ("raw websockets+json", lambda: raw_requests(port, args.requests)),
            ):
                req.setdefault(name, []).append(asyncio.run(run_req()))
    finally:
        source.terminate()

    base = _median(results["python-socketio"])
    raw = _median(results["raw websockets+json"])
    print(
        f"\nEvents received and decoded ({args.events} x {len(EVENT_FRAME)}-byte frames, "
        f"median of {args.rounds}):"
    )
    print(f"  {'client':<22}{'events/s':>12}{'vs python-socketio':>20}{'vs raw':>10}")
    for name, values in results.items():
        m = _median(values)
        print(f"  {name:<22}{m:>12,.0f}{m / base:>19.2f}x{m / raw:>9.2f}x")

    rbase = _median([r for r, _ in req["python-socketio"]])
    print(f"\nAcked requests ({args.requests} round trips, {IN_FLIGHT} in flight):")
    print(f"  {'client':<22}{'req/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'vs python-socketio':>20}")
    for name, runs in req.items():
        rate = _median([r for r, _ in runs])
        lat = [x for _, lats in runs for x in lats]
        print(
            f"  {name:<22}{rate:>12,.0f}{_pct(lat, 0.5):>9.2f}{_pct(lat, 0.99):>9.2f}"
            f"{rate / rbase:>19.2f}x"
        )


if __name__ == "__main__":
    main()
