"""Soak: N forced disconnects against the sandbox, visitors talking throughout (issues 12, 16).

Why: exactly-once replies and the typing rule must hold over many drops, not just the few a
unit test makes. The sandbox is served by uvicorn on loopback; the bot under test is a real
:class:`~agentbot.runtime.bot.Bot` (an echo plugin, a SQLite file, pacing on the real clock
at ``--time-scale``) with the default reconnect policy. A dropper breaks the link every
``--interval`` seconds (a random value in the range), mixing faults by ``--mode``:

* ``socket`` (replies over the socket): the next ``chat.message`` ack is dropped and then the
  link (stored, unacknowledged), or the link alone;
* ``rest`` (replies over REST): the answer to a stored message is cut short, or a 503 is
  answered without storing, or the socket link drops.

Each visitor writes, waits for the echo of that message (or ``--answer-timeout``), and writes
again. Afterwards, from the sandbox's records: messages, answered once / lost / doubled,
reconnect p50/p99 (from the drop to the new login, seen by the sandbox), bot messages sent
without ``typing: true`` on the same connection, and typing episodes left open on the last
connection. The same figures follow for python-socketio's ``AsyncClient`` driving a trivial
echo bot (EIO4, socket ``chat.message``, its own reconnection), on a fresh sandbox, fewer
drops by default (``--peer-drops``), socket faults only.

Run: ``python benchmarks/soak.py [--drops 1000] [--mode socket|rest] [--interval 0.5-1.5]``.
Figures only; nothing asserts. ``--cli`` runs the bot as ``agentbot run -c bot.toml`` in a
child process (credentials in ``AGENTBOT_*`` variables, the echo plugin as a file), against
the sandbox served here; the figures come from the sandbox's records alike. ``--profile
drops|flapping`` sets issue 16's two link patterns (see :func:`apply_profile`):
``python benchmarks/soak.py --cli --profile drops`` and ``... --cli --profile flapping``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from agentbot import Reply, hookimpl
from agentbot.api import encode_request
from agentbot.api.requests import AgentConnect, ChatMessage, ChatTyping
from agentbot.client import AgentClient
from agentbot.client.agent_client import DEFAULT_PATH
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import RealClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.pacing import PacingSettings
from agentbot.runtime.storage import Storage
from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

REST_SEND = "POST /v2/conversations/{id}"


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}")


def interval(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


class Run:
    """One soak against one sandbox: the visitors, the dropper and the counts."""

    def __init__(self, app: Any, args: argparse.Namespace, *, mode: str, drops: int) -> None:
        self.app = app
        self.control = app.state.control
        self.sandbox = app.state.sandbox
        self.bot_id = app.state.sandbox.config.bot.id
        self.args = args
        self.mode = mode
        self.drops = drops
        self.rng = random.Random(args.seed)
        self.written: dict[str, list[str]] = {}
        self.reconnects: list[float] = []
        self.count = 0
        self.done = False
        self.made = 0
        self._said: dict[str, tuple[int, Counter[str]]] = {}

    def logins(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control.connections(agent_id=self.bot_id)["connections"]
        return [c for c in found if c["authenticated"]]

    def said(self, chat_id: str) -> Counter[str]:
        """The agent's messages in one chat, counted by text (read incrementally: the
        predicates run on every sandbox change, and transcripts grow to thousands)."""
        after, counts = self._said.get(chat_id, (0, Counter()))
        entries = self.control.transcript(chat_id, after=after)["entries"]
        for e in entries:
            if e["kind"] == "message" and e["by"] == "agent":
                counts[e["text"]] += 1
        if entries:
            self._said[chat_id] = (entries[-1]["seq"], counts)
        return counts

    async def until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await self.sandbox.wait_until(predicate)
            return True
        return False

    async def visitor(self, name: str) -> None:
        visitor_id = self.control.create_visitor(name=name)["visitor"]["id"]
        while not self.done:
            self.count += 1
            text = f"{name} says {self.count}"
            chat_id = self.control.visitor_message(visitor_id, text)["chat"]["id"]
            self.written.setdefault(chat_id, []).append(text)
            await self.until(lambda c=chat_id, t=text: bool(self.said(c)[f"echo: {t}"]), 30.0)
            await anyio.sleep(self.rng.uniform(0, self.args.think))

    async def dropper(self) -> None:
        low, high = self.args.interval
        deadline = time.monotonic() + self.args.max_minutes * 60 if self.args.max_minutes else None
        for _ in range(self.drops):
            if deadline is not None and time.monotonic() > deadline:
                break
            self.made += 1
            await anyio.sleep(self.rng.uniform(low, high))
            how = self.rng.random() if self.args.profile is None else 1.0  # profiles: drops
            if self.mode == "socket" and how < 0.5:
                self.control.ack_fault(
                    request="chat.message", action="drop", count=1, agent_id=self.bot_id
                )
                await self.until(lambda: not self.sandbox.faults.ack_faults, high + 1.0)
                self.control.clear_faults()
            elif self.mode == "rest" and how < 0.6:
                action = "drop" if how < 0.4 else "error"
                self.control.rest_fault(
                    action=action, operation=REST_SEND, count=1, agent_id=self.bot_id
                )
                await self.until(lambda: not self.sandbox.faults.rest_faults, high + 1.0)
                self.control.clear_faults()
                continue
            before = len(self.logins())
            started = time.monotonic()
            self.control.drop(agent_id=self.bot_id)
            if await self.until(
                lambda b=before: len(self.logins()) > b and self.logins()[-1]["open"], 60.0
            ):
                self.reconnects.append(time.monotonic() - started)

    async def soak(self) -> None:
        async with anyio.create_task_group() as tg:
            for i in range(self.args.visitors):
                tg.start_soon(self.visitor, f"v{i}")
            await self.dropper()
            self.done = True
        # Let the last replies and their typing false arrive.
        await self.until(lambda: not self.unanswered() and not self.typing_left_open(), 30.0)

    def unanswered(self) -> list[str]:
        return [
            t for c, texts in self.written.items() for t in texts if not self.said(c)[f"echo: {t}"]
        ]

    # -- the figures ---------------------------------------------------------------------------

    def typing_episodes(self) -> tuple[int, int]:
        """Return (left open, cut by a drop and taken up on a later link).

        An episode is a ``chat.typing`` true for chat X on connection C. It is closed by the
        next ``chat.typing`` false for X on C. If C ends first (the soak dropped it), the server
        cannot be told on that link: the episode counts as *taken up* when the bot's next
        request for X, on a later connection, is a ``chat.typing`` (true: typing re-established
        for the pending reply; false: typing cleared), and as *left open* otherwise (its next
        request for X is a message sent without typing, or there is none). An episode still
        open on the last connection at the end of the run is left open: the visitor would see
        "typing…" for ever.
        """
        requests = self.control.agent_requests(self.bot_id)["requests"]
        requests.sort(key=lambda r: r["seq"])
        on: dict[str, str] = {}  # chat → the connection its typing is on
        left_open = taken_up = 0
        for r in requests:
            if r["name"] not in ("chat.typing", "chat.message"):
                continue
            chat, conn = r["args"][0]["chatId"], r["connId"]
            if on.get(chat, conn) != conn:  # that connection ended with typing on
                del on[chat]
                if r["name"] == "chat.typing":
                    taken_up += 1
                else:
                    left_open += 1
            if r["name"] == "chat.typing":
                if r["args"][0]["typing"]["is"]:
                    on[chat] = conn
                else:
                    on.pop(chat, None)
        return left_open + len(on), taken_up

    def typing_left_open(self) -> int:
        return self.typing_episodes()[0]

    def untyped_messages(self) -> int:
        """Bot messages sent while its typing was not on, on the connection current then."""
        events: list[tuple[int, str, Any]] = []
        for r in self.control.agent_requests(self.bot_id)["requests"]:
            events.append((r["seq"], r["connId"], r))
        for r in self.app.state.rest.requests:
            if r["operation"] == REST_SEND and r.get("status") == 200:
                events.append((r["seq"], "", {"name": "rest", "path": r["path"]}))
        events.sort(key=lambda item: item[0])
        typing: dict[tuple[str, str], bool] = {}
        current = ""
        untyped = 0
        for _seq, conn, r in events:
            if r["name"] == "agent.connect":
                current = conn
            elif r["name"] == "chat.typing":
                typing[(conn, r["args"][0]["chatId"])] = bool(r["args"][0]["typing"]["is"])
            elif r["name"] == "chat.message":
                untyped += not typing.get((conn, r["args"][0]["chatId"]))
            elif r["name"] == "rest":
                untyped += not typing.get((current, r["path"].rsplit("/", 1)[-1]))
        return untyped

    def report(self, title: str) -> None:
        total = once = lost = doubled = 0
        for chat_id, texts in self.written.items():
            said = self.said(chat_id)
            for text in texts:
                total += 1
                n = said[f"echo: {text}"]
                once += n == 1
                lost += n == 0
                doubled += n > 1
        times = sorted(self.reconnects)
        p50 = statistics.median(times) if times else float("nan")
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
        print(f"{title}")
        print(f"  drops/faults       {self.made} (reconnects measured: {len(times)})")
        print(f"  messages           {total}")
        print(f"  answered once      {once}")
        print(f"  lost               {lost}")
        print(f"  doubled            {doubled}")
        print(f"  reconnect p50/p99  {p50:.3f} s / {p99:.3f} s")
        left_open, taken_up = self.typing_episodes()
        print(f"  without typing on the same connection  {self.untyped_messages()}")
        print(f"  typing episodes left open              {left_open}")
        print(f"  typing cut by a drop, taken up after   {taken_up}")


async def agentbot_bot(app: Any, base_url: str, args: argparse.Namespace, folder: Path) -> Any:
    """Run the real Bot until cancelled; return a function starting it in a task group."""
    sandbox_config = app.state.sandbox.config
    config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(
            url=base_url,
            agent_id=sandbox_config.bot.id,
            key=sandbox_config.account_key,
            auth_token=sandbox_config.bot.auth_token,
            eio=4,
            send_via=args.mode,
            api_url=f"{base_url}{REST_PREFIX}",
            api_token=api_token_for(sandbox_config.bot),
        ),
        pacing=PacingSettings(time_scale=args.time_scale),
        runtime=RuntimeSettings(
            max_replies_per_chat_per_minute=10_000, max_messages_per_second=10_000.0
        ),
    )
    storage = Storage(folder / "soak.sqlite3")

    def connect() -> AgentClient:
        s = config.smartsupp
        return AgentClient(s.url, agent_id=s.agent_id, key=s.key, auth_token=s.auth_token, eio=4)

    def outbound(bot: Bot) -> Outbound:
        return Outbound(
            config.smartsupp,
            lambda: bot.client,
            agent_id=lambda: bot.agent_id,
            wall_clock=bot.wall_clock,
        )

    bot = Bot(
        config,
        plugins=[("echo", Echo())],
        connect=connect,
        outbound=outbound,
        clock=RealClock(),
        storage=storage,
        entry_points={},
    )
    return bot, storage


async def socketio_bot(app: Any, base_url: str, stop: anyio.Event) -> None:
    """python-socketio's AsyncClient as a trivial echo bot: log in on every connect, answer
    each visitor message with typing true, the message (awaiting its ack), typing false."""
    import socketio  # type: ignore[import-untyped]

    sandbox_config = app.state.sandbox.config
    _name, (credentials,) = encode_request(
        AgentConnect(
            id=sandbox_config.bot.id,
            key=sandbox_config.account_key,
            auth_token=sandbox_config.bot.auth_token,
        )
    )
    sio = socketio.AsyncClient(reconnection_delay=0.5, reconnection_delay_max=5)

    async def login() -> None:
        try:
            await sio.call("agent.connect", credentials, timeout=10)
        except Exception:
            return

    @sio.event  # type: ignore[misc]
    async def connect() -> None:
        sio.start_background_task(login)

    async def answer(data: dict[str, Any]) -> None:
        message = data.get("message") or {}
        if message.get("subType") != "contact":
            return
        chat_id, visitor_id = data.get("chatId"), message.get("visitorId")
        text = (message.get("content") or {}).get("text", "")
        try:
            for request in (
                ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=True),
                ChatMessage(chat_id=chat_id, visitor_id=visitor_id, text=f"echo: {text}"),
                ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=False),
            ):
                name, request_args = encode_request(request)
                if name == "chat.message":
                    await sio.call(name, request_args[0], timeout=10)
                else:
                    await sio.emit(name, request_args[0])
        except Exception:
            return

    @sio.on("chat.message_received")  # type: ignore[misc]
    async def received(data: dict[str, Any]) -> None:
        sio.start_background_task(answer, data)

    await sio.connect(base_url, transports=["websocket"], socketio_path=DEFAULT_PATH)
    try:
        await stop.wait()
    finally:
        await sio.disconnect()


async def soak_agentbot(args: argparse.Namespace) -> None:
    app = create_app(SandboxConfig(), pages=False)
    with tempfile.TemporaryDirectory() as folder:
        async with running_server(app) as base_url:
            quiet()
            bot, storage = await agentbot_bot(app, base_url, args, Path(folder))
            run = Run(app, args, mode=args.mode, drops=args.drops)
            with storage:
                async with anyio.create_task_group() as tg:
                    await tg.start(bot.run)
                    await run.soak()
                    bot.stop()
    run.report(f"agentbot Bot, send_via={args.mode}, pacing time_scale={args.time_scale}")


ECHO_PLUGIN = """\
from agentbot import Reply, hookimpl


@hookimpl
def on_visitor_message(text):
    return Reply(f"echo: {text}")
"""


def bot_toml(app: Any, base_url: str, args: argparse.Namespace) -> str:
    """bot.toml for the child bot: the sandbox's socket and REST URLs, the echo plugin, pacing
    at ``--time-scale`` and loop guards out of the way (8 visitors write without pause). The
    credentials go in the environment (:func:`bot_environment`), as a deployment would."""
    config = app.state.sandbox.config
    return f"""\
[smartsupp]
url = "{base_url}"
agent_id = "{config.bot.id}"
eio = 4
send_via = "{args.mode}"
api_url = "{base_url}{REST_PREFIX}"

[pacing]
time_scale = {args.time_scale!r}

[runtime]
max_replies_per_chat_per_minute = 10000
max_messages_per_second = 10000.0
message_burst = 10000
storage_path = "bot.sqlite3"

[plugins.echo]
path = "echo_plugin.py"
"""


def bot_environment(app: Any) -> dict[str, str]:
    config = app.state.sandbox.config
    env = dict(os.environ)
    env["AGENTBOT_KEY"] = config.account_key
    env["AGENTBOT_AUTH_TOKEN"] = config.bot.auth_token or ""
    env["AGENTBOT_API_TOKEN"] = api_token_for(config.bot)
    return env


async def soak_cli(args: argparse.Namespace) -> None:
    """``agentbot run -c bot.toml`` as a child process against the sandbox served here; every
    figure comes from the sandbox's records, as for the in-process bot."""
    app = create_app(SandboxConfig(max_recorded_frames=10_000_000), pages=False)
    run = Run(app, args, mode=args.mode, drops=args.drops)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        async with running_server(app) as base_url:
            quiet()
            (folder / "echo_plugin.py").write_text(ECHO_PLUGIN)
            (folder / "bot.toml").write_text(bot_toml(app, base_url, args))
            log = (folder / "bot.log").open("wb")
            command = [sys.executable, "-m", "agentbot", "run", "-c", str(folder / "bot.toml")]
            process = await anyio.open_process(
                command, cwd=folder, env=bot_environment(app), stdout=log, stderr=log
            )
            try:
                if not await run.until(lambda: bool(run.logins()), 30.0):
                    log.close()
                    tail = (folder / "bot.log").read_text(errors="replace")[-2000:]
                    sys.exit(f"agentbot run did not log in:\n{tail}")
                await run.soak()
            finally:
                process.terminate()  # SIGTERM: the bot's clean stop
                with anyio.move_on_after(10):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                log.close()
            code = process.returncode
    run.report(
        f"agentbot run (child process), send_via={args.mode}, "
        f"pacing time_scale={args.time_scale}, exit status {code}"
    )


async def soak_socketio(args: argparse.Namespace) -> None:
    app = create_app(SandboxConfig(), pages=False)
    run = Run(app, args, mode="socket", drops=args.peer_drops)
    async with running_server(app) as base_url:
        quiet()
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(socketio_bot, app, base_url, stop)
            if not await run.until(lambda: bool(run.logins()), 20.0):
                print("python-socketio AsyncClient: could not log in; no figures")
                stop.set()
                return
            await run.soak()
            stop.set()
    run.report("python-socketio AsyncClient echo bot (EIO4, socket chat.message)")


def quiet() -> None:
    """Figures only: the drops make every client log warnings, and the sandbox's cut REST
    answers make uvicorn log tracebacks (uvicorn resets its loggers when it starts)."""
    for name in ("agentbot", "socketio", "engineio", "uvicorn", "uvicorn.error", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


PROFILES: dict[str, tuple[tuple[float, float], int]] = {
    # name: (seconds between drops, real time; default number of drops)
    "drops": ((20.0, 40.0), 100),
    "flapping": ((0.5, 1.5), 200),
}
DEFAULT_COMPRESSION = {"drops": 4.0, "flapping": 1.0}


def apply_profile(args: argparse.Namespace) -> None:
    """``--profile``: issue 16's two link patterns. ``--time-compression C`` divides the
    seconds between drops by C and sets pacing ``time_scale`` to 1/C, so the bot's typing
    pauses shrink with the gaps (a run of 100 drops every 20–40 s fits in minutes). Nothing
    else is scaled: the visitors' think time, the client's reconnect policy and the sandbox
    run on the real clock. C is 4 for ``drops`` by default (links stay up 5–10 s, at or over
    the policy's 5 s "stable link", so each drop is a single drop after a stable link) and 1
    for ``flapping``. Profiles drop the link only (no ack or REST faults)."""
    if args.profile is None:
        if args.time_scale is None:
            args.time_scale = 0.02
        return
    (low, high), drops = PROFILES[args.profile]
    c = args.time_compression or DEFAULT_COMPRESSION[args.profile]
    args.interval = (low / c, high / c)
    if args.time_scale is None:
        args.time_scale = 1.0 / c
    if args.drops is None:
        args.drops = drops


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drops", type=int, default=None, help="default 1000 (profile: its own)")
    parser.add_argument("--peer-drops", type=int, default=None)
    parser.add_argument("--mode", choices=["socket", "rest"], default="socket")
    parser.add_argument(
        "--interval", type=interval, default=(0.5, 1.5), help="seconds between drops: A-B"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None)
    parser.add_argument("--time-compression", type=float, default=None)
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.2, help="max pause between messages")
    parser.add_argument("--time-scale", type=float, default=None, help="pacing; default 0.02")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--max-minutes", type=float, default=None, help="stop dropping after this long"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip python-socketio")
    parser.add_argument("--cli", action="store_true", help="the bot is `agentbot run` (child)")
    args = parser.parse_args(argv)
    apply_profile(args)
    if args.drops is None:
        args.drops = 1000
    logging.basicConfig(level=logging.CRITICAL)
    quiet()
    if args.peer_drops is None:
        args.peer_drops = min(args.drops, 100)
    runs: list[Callable[[argparse.Namespace], Awaitable[None]]] = [
        soak_cli if args.cli else soak_agentbot
    ]
    if not args.no_peer:
        runs.append(soak_socketio)
    for run in runs:
        anyio.run(run, args, backend="asyncio")  # uvicorn: asyncio only


if __name__ == "__main__":
    main()
