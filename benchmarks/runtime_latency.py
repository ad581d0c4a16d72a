"""Runtime latency and scale: what the Bot adds on top of the client, and what waiting costs.

A lean Smartsupp stand-in (a `websockets` server in a separate process, so it runs on the
other core) speaks Engine.IO 3 / Socket.IO 4 to the real AgentClient over loopback, acks
``chat.message`` and timestamps frames itself.

1. Added latency, pacing at zero: the server writes one ``chat.message_received`` frame per
   chat (1, 100, 1000 chats at once, several rounds) and times the ``chat.typing`` true frame
   that comes back for each chat. Measured twice, side by side:

   * ``bot``: the Bot (one trivial plugin, SQLite dedupe, actors, hooks, pacing at 0);
   * ``bare``: a bare AgentClient loop that answers each message with typing true at once —
     the floor set by the client, the loopback and the server;

   and, inside the bot process, ``runtime``: from the client yielding the event to the Bot
   handing ``chat.typing`` true to the client — the runtime's own share.
2. 10k waiting chats: 10,000 chats each get a visitor message and the bot plans a paced reply
   (the default human pacing, 1-8 s). Reported: RSS when all of them are waiting, memory per
   waiting chat over the idle bot, and timer lateness (actual wake-up minus the deadline) of
   the pacing sleeps.

Targets (issue 6): p99 added latency < 5 ms at 100 chats; 10k waiting chats < 200 MB RSS in
total with timer lateness p99 < 50 ms.

Run: ``python benchmarks/runtime_latency.py [--quick] [--backend asyncio|trio]``.
Not a test: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

AGENT = {"id": "1", "status": "online", "groups": [], "nickname": "bot", "fullname": "Bot"}
CONNECT_REPLY = {"serverVersion": 3, "agent": AGENT, "account": {"agents": [AGENT], "groups": []}}
QUESTION = "Hello, I ordered a blue sweater last week. Where is it?"


# ------------------------------------------------------------------ the server (subprocess)


def _message_frame(chat: int, message_id: str) -> str:
    message = {
        "id": message_id,
        "type": "message",
        "subType": "contact",
        "chatId": f"c{chat}",
        "visitorId": f"v{chat}",
        "content": {"type": "text", "text": QUESTION},
    }
    return "42" + json.dumps(
        ["chat.message_received", {"chatId": f"c{chat}", "message": message}],
        separators=(",", ":"),
    )


def _server_main(port_queue: Any, results: Any, plans: dict[str, list[tuple[Any, ...]]]) -> None:
    """Serve; each connection's path names a plan to play on it: a list of
    ("burst", chats, rounds) and ("steady", chats, seconds, interval_seconds) steps."""
    import asyncio

    import websockets.asyncio.server as ws_server
    from websockets.exceptions import ConnectionClosed

    async def handler(ws: Any) -> None:
        label = ws.request.path.strip("/").split("/")[0]
        plan = plans[label]
        typing_on: dict[str, float] = {}
        typing_off: set[str] = set()
        changed = asyncio.Event()
        logged_in = asyncio.Event()
        await ws.send(
            "0"
            + json.dumps(
                {"sid": "s1", "upgrades": [], "pingInterval": 600000, "pingTimeout": 600000}
            )
        )
        await ws.send("40")

        async def reader() -> None:
            with contextlib.suppress(ConnectionClosed):  # the client left: how each run ends
                await read_frames()

        async def read_frames() -> None:
            async for frame in ws:
                now = time.perf_counter()
                if frame == "2":
                    await ws.send("3")
                    continue
                if not frame.startswith("42"):
                    continue
                body = frame[2:]
                bracket = body.index("[")
                ack = body[:bracket]
                name, *args = json.loads(body[bracket:])
                if name == "agent.connect":
                    await ws.send(f"43{ack}" + json.dumps([None, CONNECT_REPLY]))
                    logged_in.set()
                elif name == "chat.typing":
                    chat = args[0]["chatId"]
                    if args[0]["typing"]["is"]:
                        typing_on.setdefault(chat, now)
                    else:
                        typing_off.add(chat)
                        changed.set()
                    if len(typing_on) >= expected[0]:
                        changed.set()
                elif name == "chat.message" and ack:
                    stored = {
                        "id": f"b{ack}",
                        "type": "message",
                        "subType": "agent",
                        "chatId": args[0]["chatId"],
                        "visitorId": args[0]["visitorId"],
                        "agentId": "1",
                        "content": args[0]["content"],
                    }
                    await ws.send(f"43{ack}" + json.dumps([None, stored]))

        expected = [0]
        task = asyncio.create_task(reader())
        await logged_in.wait()
        await asyncio.sleep(0.2)  # let the client finish its post-login requests
        report: list[dict[str, Any]] = []
        for step in plan:
            kind, chats = step[0], step[1]
            latencies: list[float] = []
            if kind == "burst":
                # Every chat writes in the same instant: the worst case, pure queueing.
                for round_number in range(step[2]):
                    typing_on.clear()
                    typing_off.clear()
                    expected[0] = chats
                    frames = [
                        _message_frame(i, f"b{chats}-{round_number}-{i}") for i in range(chats)
                    ]
                    sent = time.perf_counter()
                    for frame in frames:
                        await ws.send(frame)
                    while len(typing_off) < chats:
                        changed.clear()
                        await changed.wait()
                    latencies.extend(typing_on[f"c{i}"] - sent for i in range(chats))
            else:
                # Steady: each chat writes every `interval` s (random phase) for `seconds`.
                seconds, interval = step[2], step[3]
                rng = random.Random(chats)
                schedule = sorted(
                    (rng.uniform(0, interval) + k * interval, i)
                    for i in range(chats)
                    for k in range(int(seconds / interval))
                )
                typing_on.clear()
                typing_off.clear()
                expected[0] = 10**9
                sent_at: dict[str, float] = {}
                skipped = 0
                start = time.perf_counter()
                for offset, i in schedule:
                    chat = f"c{i}"
                    delay = start + offset - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if chat in sent_at:  # the previous message's answer is still pending
                        if chat not in typing_off:
                            skipped += 1
                            continue
                        latencies.append(typing_on[chat] - sent_at.pop(chat))
                        typing_on.pop(chat, None)
                        typing_off.discard(chat)
                    sent_at[chat] = time.perf_counter()
                    await ws.send(_message_frame(i, f"s{chats}-{offset:.6f}-{i}"))
                while any(chat not in typing_off for chat in sent_at):
                    changed.clear()
                    await changed.wait()
                latencies.extend(typing_on[chat] - t for chat, t in sent_at.items())
            report.append({"kind": kind, "chats": chats, "latencies": latencies})
        results.put((label, report))
        # The client ends the connection when it has its figures (a close from here would
        # make the bot reconnect and log it); the reader returns then.
        await task

    async def main() -> None:
        # SIGTERM (Process.terminate) closes the server cleanly: no traceback at shutdown.
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        async with ws_server.serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as srv:
            port_queue.put(srv.sockets[0].getsockname()[1])
            await stop

    asyncio.run(main())


# ------------------------------------------------------------------ the clients


class Stamps:
    """Runtime-only latency: event yielded by the client → typing true handed to the client.

    Grouped by the scenario tag the server puts in front of each message id (``s100``: the
    steady 100-chat step, ``b1000``: the 1000-chat burst, …).
    """

    def __init__(self) -> None:
        self.arrived: dict[str, tuple[float, str]] = {}
        self.latencies: dict[str, list[float]] = {}


class StampingClient:
    """Wraps the real AgentClient and timestamps the Bot's side of the exchange."""

    def __init__(self, client: Any, stamps: Stamps) -> None:
        self._client = client
        self._stamps = stamps

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def __aenter__(self) -> StampingClient:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._client.__aexit__(*exc_info)

    async def events(self) -> AsyncIterator[Any]:
        from agentbot.api import ChatMessageReceived

        async for event in self._client.events():
            if isinstance(event, ChatMessageReceived) and event.message.is_from_visitor:
                tag = event.message.id.split("-")[0]
                self._stamps.arrived[event.chat_id] = (time.perf_counter(), tag)
            yield event

    async def send(self, request: Any) -> None:
        from agentbot.api import ChatTyping

        if isinstance(request, ChatTyping) and request.is_typing:
            arrived = self._stamps.arrived.pop(request.chat_id, None)
            if arrived is not None:
                elapsed = time.perf_counter() - arrived[0]
                self._stamps.latencies.setdefault(arrived[1], []).append(elapsed)
        await self._client.send(request)

    async def request(self, request: Any, **options: Any) -> Any:
        return await self._client.request(request, **options)


class Answer:
    """The plugin: answers every visitor message (reply length varies with the chat)."""

    @staticmethod
    def on_visitor_message(chat_id: str) -> Any:
        from agentbot import Reply

        size = 20 + (int(chat_id[1:]) * 37) % 180
        return Reply(("Thanks, let me check that for you. " * 6)[:size])


class GcPauses:
    """Collects the duration of every garbage collection (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def summary(self) -> str:
        if not self.pauses:
            return "none"
        worst = max(p for _g, p in self.pauses) * 1000
        full = sum(1 for g, _p in self.pauses if g == 2)
        return f"{len(self.pauses)} collections ({full} full), longest {worst:.1f} ms"


class TimedClock:
    """A RealClock that records how late each sleep woke up and how many are sleeping."""

    def __init__(self) -> None:
        from agentbot.runtime.clock import RealClock

        self._real = RealClock()
        self.lateness: list[float] = []
        self.deadlines: list[float] = []
        self.sleeping = 0
        self.peak_sleeping = 0
        self.peak_rss = 0
        self.peak_at = 0.0

    def now(self) -> float:
        return self._real.now()

    async def sleep_until(self, deadline: float) -> None:
        self.sleeping += 1
        if self.sleeping > self.peak_sleeping:
            self.peak_sleeping = self.sleeping
            self.peak_at = self._real.now()
            if self.sleeping % 500 == 0:
                self.peak_rss = max(self.peak_rss, rss_bytes())
        try:
            await self._real.sleep_until(deadline)
            self.lateness.append(self._real.now() - deadline)
            self.deadlines.append(deadline)
        finally:
            self.sleeping -= 1


def _bot_config(url: str, *, time_scale: float, storage: Path) -> Any:
    from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
    from agentbot.runtime.pacing import PacingSettings

    return BotConfig(
        path=None,
        # The stand-in speaks the socket protocol only: replies go over it, not REST.
        smartsupp=SmartsuppSettings(url=url, agent_id="1", key="k", send_via="socket"),
        pacing=PacingSettings(time_scale=time_scale),
        # The limits that protect a real account would throttle a benchmark: lift them.
        runtime=RuntimeSettings(
            storage_path=storage,
            max_replies_per_chat_per_minute=1_000_000,
            max_messages_per_second=1e9,
            message_burst=1_000_000,
            chat_queue_size=64,
        ),
    )


@asynccontextmanager
async def running_bot(
    url: str, label: str, *, time_scale: float, stamps: Stamps, clock: Any = None
) -> AsyncIterator[Any]:
    from agentbot.client import AgentClient
    from agentbot.runtime.bot import Bot

    with tempfile.TemporaryDirectory(prefix="agentbot-bench-") as folder:
        config = _bot_config(url, time_scale=time_scale, storage=Path(folder) / "bot.sqlite3")

        def connect() -> Any:
            client = AgentClient(url, agent_id="1", key="k", path=f"/{label}", event_buffer=1024)
            return StampingClient(client, stamps)

        bot = Bot(config, plugins=[("answer", Answer())], connect=connect, clock=clock)
        async with anyio.create_task_group() as tg:
            await tg.start(bot.run)
            try:
                yield bot
            finally:
                bot.stop()


async def bare_client(url: str, label: str, done: anyio.Event) -> None:
    """The floor: typing true the moment a visitor message is yielded; then answer."""
    from agentbot.api import ChatMessage, ChatMessageReceived, ChatTyping
    from agentbot.client import AgentClient

    async with (
        AgentClient(url, agent_id="1", key="k", path=f"/{label}", event_buffer=1024) as client,
        anyio.create_task_group() as tg,
    ):

        async def answer(chat_id: str, visitor_id: str) -> None:
            await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=True))
            await client.request(ChatMessage(chat_id=chat_id, visitor_id=visitor_id, text="ok"))
            await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=False))

        async def read() -> None:
            # One task per message, like the Bot's actors, so both get the client's write
            # coalescing; everything else the Bot does is left out.
            async for event in client.events():
                if isinstance(event, ChatMessageReceived) and event.message.is_from_visitor:
                    tg.start_soon(answer, event.chat_id, event.message.visitor_id or "")

        tg.start_soon(read)
        await done.wait()
        tg.cancel_scope.cancel()


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def wait_for_report(results: Any, label: str) -> list[dict[str, Any]]:
    while True:
        if not results.empty():
            got_label, report = results.get()
            assert got_label == label
            return list(report)
        await anyio.sleep(0.05)


# ------------------------------------------------------------------ reporting


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms"


async def bench(args: argparse.Namespace, url: str, results: Any) -> None:
    if args.gc == "tuned":
        from agentbot.runtime.launcher import tune_gc

        tune_gc()
    print(f"backend {args.backend}, gc {args.gc}, Python {sys.version.split()[0]}")
    print()
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    print("1. Added latency, pacing at zero: visitor message frame out -> typing true frame in")
    print("   (bot: the Bot; bare: a bare AgentClient loop, the floor; added: bot - bare per")
    print("   quantile; runtime: inside the bot process, event yielded -> typing handed over)")
    stamps = Stamps()
    async with running_bot(url, "bot", time_scale=0.0, stamps=stamps):
        bot_report = await wait_for_report(results, "bot")
    done = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(bare_client, url, "bare", done)
        bare_report = await wait_for_report(results, "bare")
        done.set()
    for bot_row, bare_row in zip(bot_report, bare_report, strict=True):
        chats, kind = bot_row["chats"], bot_row["kind"]
        bot_lat, bare_lat = bot_row["latencies"], bare_row["latencies"]
        runtime_lat = stamps.latencies.get(f"{kind[0]}{chats}", [])
        what = "each writes every 2 s" if kind == "steady" and chats > 1 else "writes every 50 ms"
        if kind == "burst":
            what = "all write in the same instant (worst case)"
        print(f"  {kind} {chats} chat(s), {what}: {len(bot_lat)} messages")
        print(f"     bot      {fmt(bot_lat)}")
        print(f"     bare     {fmt(bare_lat)}")
        added = {q: pct(bot_lat, q) - pct(bare_lat, q) for q in (0.5, 0.99)}
        print(f"     added    p50 {added[0.5]:7.2f} ms  p99 {added[0.99]:7.2f} ms")
        print(f"     runtime  {fmt(runtime_lat)}")
    print(f"  garbage collection: {pauses.summary()}")
    print()
    pauses.pauses.clear()
    chats = args.waiting
    print(f"2. {chats} chats each waiting on a paced reply (default human pacing, 1-8 s)")
    gc.collect()
    clock = TimedClock()
    stamps = Stamps()
    async with running_bot(url, "wait", time_scale=1.0, stamps=stamps, clock=clock) as bot:
        gc.collect()
        idle_rss = rss_bytes()
        await wait_for_report(results, "wait")
    waiting_rss = clock.peak_rss
    per_chat = (waiting_rss - idle_rss) / clock.peak_sleeping if waiting_rss else float("nan")
    print(f"  peak chats waiting at once: {clock.peak_sleeping}")
    print(f"  RSS idle bot {idle_rss / 2**20:7.1f} MB")
    print(f"  RSS with the chats waiting {waiting_rss / 2**20:7.1f} MB")
    print(f"  memory per waiting chat {per_chat / 1024:6.2f} KiB")
    worst = max(clock.lateness) * 1000
    print(f"  timer lateness, all {len(clock.lateness)} sleeps: {fmt(clock.lateness)}")
    print(f"     max {worst:.2f} ms (includes timers due while the 10k arrivals were absorbed)")
    settled = [
        late
        for late, deadline in zip(clock.lateness, clock.deadlines, strict=True)
        if deadline > clock.peak_at
    ]
    if settled:
        print(f"  timer lateness, {len(settled)} sleeps due after all chats were waiting:")
        print(f"     {fmt(settled)}  max {max(settled) * 1000:.2f} ms")
    print(f"  garbage collection: {pauses.summary()}")
    print(f"  stats: {dict(bot.stats)}")
    gc.callbacks.remove(pauses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--waiting", type=int, default=10_000, help="chats in part 2")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and waiting chats")
    parser.add_argument(
        "--gc",
        choices=["tuned", "default"],
        default="tuned",
        help="tuned: what `agentbot run` does (launcher.tune_gc); default: CPython's settings",
    )
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 10.0
    latency_plan: list[tuple[Any, ...]] = [
        ("steady", 1, seconds, 0.05),
        ("steady", 100, seconds, 2.0),
        ("steady", 1000, seconds, 2.0),
        ("burst", 100, 3 if args.quick else 10),
        ("burst", 1000, 2 if args.quick else 5),
    ]
    if args.quick and args.waiting == parser.get_default("waiting"):
        args.waiting = 2000
    plans = {"bot": latency_plan, "bare": latency_plan, "wait": [("burst", args.waiting, 1)]}
    context = multiprocessing.get_context("spawn")
    port_queue, results = context.Queue(), context.Queue()
    server = context.Process(target=_server_main, args=(port_queue, results, plans), daemon=True)
    server.start()
    try:
        port = port_queue.get(timeout=30)
        url = f"http://127.0.0.1:{port}"
        anyio.run(bench, args, url, results, backend=args.backend)
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
