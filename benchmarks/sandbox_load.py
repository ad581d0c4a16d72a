"""Sandbox under load: N visitors x M messages to one agent, next to a plain python-socketio relay.

Two servers, each under uvicorn on a 127.0.0.1 ephemeral port in its own process (so a
server has a core to itself while the load generator runs on the other one):

- ``sandbox``: ``agentbot.sandbox.create_app`` (the whole thing: protocol, request decoding,
  account state, transcript, recordings, fan-out).
- ``python-socketio``: a plain ``socketio.AsyncServer`` (defaults) that relays the same
  events: ``agent.connect`` joins the agents' room, ``visitor.connect`` is answered, and a
  visitor's ``chat.message`` is emitted as ``chat.message_received`` (the same message object
  shape as the sandbox's) to the agents' room and acked to the visitor.

Both take the same load, in the same run, rounds alternating between them. The load
generator (this process) opens ONE agent connection (``agentbot.client.AgentClient`` by
default, or python-socketio's ``AsyncClient``; EIO 4, which both servers speak) and N visitor
connections speaking the visitor side over raw WebSocket frames (``visitor.connect``, then
``chat.message`` with an ack id; pings answered), so the visitors cost next to nothing.
Each visitor sends one untimed warm-up message (it opens the chat), then M messages, each
after the previous one's ack (closed loop: at most N messages in flight). A message carries
its send time; latency is visitor send -> the agent receives its ``chat.message_received``.

Reported per server: messages/s delivered to the agent, p50/p99 latency, server CPU per
message (the server process's own CPU time: the fairest figure on a shared machine) and how
busy the load generator was (near 100% means the generator, not the server, set the pace).

Run: ``python benchmarks/sandbox_load.py [--quick] [--visitors N] [--messages M] [--rounds R]
[--agent agentbot|python-socketio] [--queue-frames F] [--profile]``. Defaults (100 x 50,
3 rounds) take about 15 s, ``--quick`` (50 x 20, 2 rounds) about 5 s. ``--profile`` runs the
sandbox server under cProfile and prints its top functions (it slows the sandbox down, so
its figures are then not comparable). Not a test: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import multiprocessing
import socket
import statistics
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SANDBOX = "sandbox"
RELAY = "python-socketio"
TEXT = "Hello, I ordered a blue sweater last week. Where is it?"
AGENT_ID = "bot-1"
ACCOUNT_KEY = "sandbox-key"
AUTH_TOKEN = "bot-token"
PHASE_TIMEOUT_SECONDS = 60.0
PROFILE_LINES = 45

# ------------------------------------------------------------------ the servers (subprocesses)


def _relay_app() -> Any:
    """A plain python-socketio server relaying visitors' messages to the agents' room."""
    import socketio

    agent: dict[str, Any] = {
        "id": AGENT_ID,
        "status": "online",
        "groups": [],
        "email": "bot@example.com",
        "nickname": "bot",
        "fullname": "Bot",
        "description": "",
        "avatar": None,
        "connectedAt": None,
        "disabled": False,
    }
    connect_reply = {
        "serverVersion": 3,
        "agent": agent,
        "account": {"agents": [agent], "groups": []},
    }
    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)
    visitors: dict[str, tuple[str, str]] = {}
    ids = itertools.count(1)

    async def agent_connect(sid: str, data: Any) -> Any:
        await sio.enter_room(sid, "agents")
        return None, connect_reply

    async def track_visitors(sid: str, data: Any) -> None:
        return None

    async def visitor_connect(sid: str, data: Any) -> Any:
        n = next(ids)
        visitors[sid] = (f"vi{n}", f"ch{n}")
        visitor = {"id": f"vi{n}", "chatId": f"ch{n}", "name": data.get("name")}
        account = {"status": "online", "agents": [agent], "groups": []}
        return None, {"serverVersion": 3, "visitor": visitor, "browser": None, "account": account}

    async def chat_message(sid: str, data: Any) -> Any:
        visitor_id, chat_id = visitors[sid]
        message: dict[str, Any] = {
            "id": f"ms{next(ids)}",
            "type": "message",
            "subType": "contact",
            "chatId": chat_id,
            "visitorId": visitor_id,
            "agentId": None,
            "groupId": None,
            "channel": {"type": "default", "id": None},
            "trigger": None,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "content": {"type": "text", "text": data["content"]["text"], "data": None},
            "tags": [],
            "responseTime": None,
            "attachments": [],
        }
        await sio.emit(
            "chat.message_received", {"chatId": chat_id, "message": message}, to="agents"
        )
        return None, message

    for event, handler in (
        ("agent.connect", agent_connect),
        ("agent.track_visitors", track_visitors),
        ("visitor.connect", visitor_connect),
        ("chat.message", chat_message),
    ):
        sio.on(event, handler)
    return socketio.ASGIApp(sio, socketio_path="socket")


def _sandbox_app(queue_frames: int) -> Any:
    from agentbot.sandbox import SandboxConfig, create_app

    # One agent connection hears every visitor: its outgoing queue must hold a burst from all
    # of them (the default 1000 frames would call it a slow consumer past ~1000 visitors).
    return create_app(SandboxConfig(outgoing_queue_frames=queue_frames), pages=False)


def _server_main(
    kind: str, port_queue: Any, control: Any, queue_frames: int, profile: bool
) -> None:
    """Serve one app under uvicorn until told to stop; answer CPU-time queries meanwhile."""
    import cProfile
    import io
    import pstats

    import uvicorn

    app = _sandbox_app(queue_frames) if kind == SANDBOX else _relay_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)  # bound and listening: clients may connect before uvicorn accepts
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        ws_ping_interval=None,  # Engine.IO heartbeats own liveness, as in agentbot.sandbox.server
        ws_ping_timeout=None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    profiler = cProfile.Profile() if profile else None

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def answer() -> None:  # a thread: the event loop stays free for the server
            while True:
                command = control.recv()
                if command == "cpu":
                    control.send(time.process_time())
                else:
                    loop.call_soon_threadsafe(stopped.set)
                    return

        threading.Thread(target=answer, daemon=True).start()
        task = asyncio.create_task(server.serve([sock]))
        port_queue.put(sock.getsockname()[1])
        await stopped.wait()
        server.should_exit = True
        await task

    if profiler is not None:
        profiler.enable()
    asyncio.run(serve())
    report = ""
    if profiler is not None:
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(PROFILE_LINES)
        stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
        report = out.getvalue()
    control.send(report)


@dataclass
class _Server:
    kind: str
    process: Any
    control: Any
    url: str

    def cpu(self) -> float:
        self.control.send("cpu")
        return float(self.control.recv())

    def stop(self) -> str:
        self.control.send("stop")
        report = str(self.control.recv()) if self.control.poll(15) else ""
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
        return report


def _start_server(ctx: Any, kind: str, queue_frames: int, profile: bool) -> _Server:
    port_queue = ctx.Queue()
    ours, theirs = ctx.Pipe()
    process = ctx.Process(
        target=_server_main,
        args=(kind, port_queue, theirs, queue_frames, profile),
        daemon=True,
    )
    process.start()
    port = port_queue.get(timeout=30)
    return _Server(kind, process, ours, f"http://127.0.0.1:{port}")


# ------------------------------------------------------------------ the load (this process)


@dataclass
class _Sink:
    """What the agent received: counts, last arrival, latencies from embedded send times."""

    target: int = 0
    count: int = 0
    last: float = 0.0
    latencies: list[float] = field(default_factory=list)
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    failure: str | None = None

    def fail(self, reason: str) -> None:
        """The agent lost its link: messages are lost, so stop waiting and say why."""
        self.failure = self.failure or reason
        self.reached.set()

    def expect(self, target: int) -> None:
        self.target, self.count, self.latencies = target, 0, []
        self.reached = asyncio.Event()

    def on_text(self, text: str) -> None:
        now = time.perf_counter_ns()
        self.latencies.append((now - int(text.split(" ", 1)[0])) / 1e9)
        self.count += 1
        self.last = now / 1e9
        if self.count >= self.target:
            self.reached.set()


class _Visitor:
    """One website visitor over raw Engine.IO 4 / Socket.IO 5 frames."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_ack = 0

    @classmethod
    async def connect(cls, base_url: str, index: int) -> _Visitor:
        import websockets.asyncio.client as ws_client

        url = base_url.replace("http", "ws", 1) + "/socket/?EIO=4&transport=websocket"
        ws = await ws_client.connect(url, compression=None, max_size=None)
        visitor = cls(ws)
        opened = await ws.recv()
        if not str(opened).startswith("0"):
            raise RuntimeError(f"expected an Engine.IO open packet, got {opened!r}")
        await ws.send("40")
        while not str(await ws.recv()).startswith("40"):
            pass
        await visitor.call("visitor.connect", {"id": None, "key": ACCOUNT_KEY, "name": f"v{index}"})
        return visitor

    async def call(self, name: str, payload: Any) -> None:
        ack = self.next_ack
        self.next_ack += 1
        await self.ws.send(f"42{ack}" + json.dumps([name, payload], separators=(",", ":")))
        prefix = f"43{ack}["
        while True:
            frame = await self.ws.recv()
            if frame == "2":
                await self.ws.send("3")
            elif frame.startswith(prefix):
                if not frame.startswith(prefix + "null"):
                    raise RuntimeError(f"{name} failed: {frame[:200]}")
                return

    async def say(self) -> None:
        text = f"{time.perf_counter_ns()} {TEXT}"
        await self.call("chat.message", {"content": {"type": "text", "text": text}})

    async def close(self) -> None:
        await self.ws.close()


async def _agentbot_agent(url: str, sink: _Sink, ready: asyncio.Event) -> None:
    from agentbot.api import ChatMessageReceived
    from agentbot.client import AgentClient, ConnectionDropped

    async with AgentClient(
        url, agent_id=AGENT_ID, key=ACCOUNT_KEY, auth_token=AUTH_TOKEN, eio=4, event_buffer=1024
    ) as client:
        ready.set()
        async for event in client.events():
            if isinstance(event, ChatMessageReceived) and event.message.sub_type == "contact":
                sink.on_text(event.message.content.text or "")
            elif isinstance(event, ConnectionDropped):
                sink.fail(f"the agent's link dropped: {event.reason}")


async def _psio_agent(url: str, sink: _Sink, ready: asyncio.Event) -> None:
    import socketio

    sio = socketio.AsyncClient(reconnection=False)

    async def on_message(data: Any) -> None:
        if data["message"]["subType"] == "contact":
            sink.on_text(data["message"]["content"]["text"])

    async def on_disconnect(*args: Any) -> None:
        sink.fail(f"the agent's link dropped: {args}")

    sio.on("chat.message_received", on_message)
    sio.on("disconnect", on_disconnect)

    await sio.connect(url, socketio_path="socket", transports=["websocket"])
    try:
        await sio.call(
            "agent.connect",
            {"version": 5, "id": AGENT_ID, "key": ACCOUNT_KEY, "authToken": AUTH_TOKEN},
        )
        ready.set()
        await asyncio.Future()  # until cancelled
    finally:
        await sio.disconnect()


AGENTS: dict[str, Callable[[str, _Sink, asyncio.Event], Coroutine[Any, Any, None]]] = {
    "agentbot": _agentbot_agent,
    "python-socketio": _psio_agent,
}


@dataclass
class Phase:
    """One server's figures for one round."""

    rate: float
    latencies: list[float]
    server_cpu_us: float  # server CPU time per delivered message
    load_busy: float  # load generator CPU time / wall time


class PhaseFailed(Exception):
    """The load could not be delivered (the agent lost its link); the reason says why."""


def _check(sink: _Sink) -> None:
    if sink.failure is not None:
        raise PhaseFailed(sink.failure)


async def _phase(server: _Server, agent: str, visitors: int, messages: int) -> Phase:
    logging.getLogger("agentbot.client").setLevel(logging.NOTSET)
    sink = _Sink()
    ready = asyncio.Event()
    agent_task = asyncio.create_task(AGENTS[agent](server.url, sink, ready))
    crowd: list[_Visitor] = []
    try:
        async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
            await ready.wait()
            crowd = list(
                await asyncio.gather(*(_Visitor.connect(server.url, i) for i in range(visitors)))
            )
            sink.expect(visitors)  # warm-up: every visitor's first message opens its chat
            await asyncio.gather(*(v.say() for v in crowd))
            await sink.reached.wait()
            _check(sink)

            async def talk(visitor: _Visitor) -> None:
                for _ in range(messages):
                    await visitor.say()

            sink.expect(visitors * messages)
            cpu0, load0, start = server.cpu(), time.process_time(), time.perf_counter()
            await asyncio.gather(*(talk(v) for v in crowd))
            await sink.reached.wait()
            _check(sink)
            wall = sink.last - start
            load = time.process_time() - load0
            cpu = server.cpu() - cpu0
    finally:
        # Frames still arriving while the client closes are logged by AgentClient as a
        # protocol error; that is teardown noise here, not a finding.
        logging.getLogger("agentbot.client").setLevel(logging.ERROR)
        agent_task.cancel()
        await asyncio.gather(agent_task, return_exceptions=True)
        await asyncio.gather(*(v.close() for v in crowd), return_exceptions=True)
    total = visitors * messages
    return Phase(total / wall, sink.latencies, cpu / total * 1e6, load / wall)


# ------------------------------------------------------------------ reporting


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _report(
    results: dict[str, list[Phase]], failures: dict[str, list[str]], args: argparse.Namespace
) -> None:
    total = args.visitors * args.messages
    print(
        f"\n{args.visitors} visitors x {args.messages} messages = {total} messages per round "
        f"-> one agent ({args.agent} client, EIO 4), {args.rounds} round(s); "
        "msg/s and CPU are medians, latencies over all rounds:"
    )
    print(
        f"  {'server':<17}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'server CPU/msg':>16}{'load gen busy':>15}"
    )
    summary: dict[str, tuple[float, float, float, float]] = {}
    for kind, phases in results.items():
        if not phases:
            print(f"  {kind:<17}{'no round completed':>30}")
            continue
        rate = statistics.median(p.rate for p in phases)
        lat = [x for p in phases for x in p.latencies]
        cpu = statistics.median(p.server_cpu_us for p in phases)
        busy = statistics.median(p.load_busy for p in phases)
        summary[kind] = (rate, _pct(lat, 0.5), _pct(lat, 0.99), cpu)
        print(
            f"  {kind:<17}{rate:>9,.0f}{_pct(lat, 0.5):>9.2f}{_pct(lat, 0.99):>9.2f}"
            f"{max(lat) * 1000:>9.2f}{cpu:>13.0f} us{busy:>14.0%}"
        )
    if SANDBOX in summary and RELAY in summary:
        s, r = summary[SANDBOX], summary[RELAY]
        print(
            f"  {'sandbox / relay':<17}{s[0] / r[0]:>8.2f}x{s[1] / r[1]:>8.2f}x"
            f"{s[2] / r[2]:>8.2f}x{'':>9}{s[3] / r[3]:>15.2f}x"
        )
    print(
        "  (msg/s: higher is better; latency and CPU/msg: lower is better. 'load gen busy'"
        " near 100% means the generator, not the server, set the pace.)"
    )
    for kind, reasons in failures.items():
        for reason in reasons:
            print(f"  FAILED round on {kind}: {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=100)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--agent", choices=sorted(AGENTS), default="agentbot")
    parser.add_argument("--quick", action="store_true", help="50 visitors x 20 messages, 2 rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile the sandbox server")
    parser.add_argument(
        "--queue-frames",
        type=int,
        default=None,
        help="the sandbox's outgoing_queue_frames (default: max(1000, 4 x visitors))",
    )
    args = parser.parse_args()
    if args.quick:
        args.visitors, args.messages, args.rounds = 50, 20, 2

    began = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    queue_frames = args.queue_frames or max(1000, 4 * args.visitors)
    servers = {
        SANDBOX: _start_server(ctx, SANDBOX, queue_frames, args.profile),
        RELAY: _start_server(ctx, RELAY, queue_frames, False),
    }
    results: dict[str, list[Phase]] = {SANDBOX: [], RELAY: []}
    failures: dict[str, list[str]] = {}
    try:
        for round_no in range(args.rounds):
            order = (SANDBOX, RELAY) if round_no % 2 == 0 else (RELAY, SANDBOX)
            for kind in order:
                try:
                    phase = asyncio.run(
                        _phase(servers[kind], args.agent, args.visitors, args.messages)
                    )
                except PhaseFailed as exc:
                    failures.setdefault(kind, []).append(str(exc))
                else:
                    results[kind].append(phase)
    finally:
        reports = {kind: server.stop() for kind, server in servers.items()}
    _report(results, failures, args)
    print(f"  total run time {time.perf_counter() - began:.1f} s")
    if args.profile:
        print("\ncProfile of the sandbox server process (whole run):")
        print(reports[SANDBOX])


if __name__ == "__main__":
    main()
