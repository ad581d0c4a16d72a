"""The Bot with the real AgentClient against the sandbox, over loopback sockets, EIO 3 and 4.

These are issue 6's end-to-end cases. The sandbox records every request the bot's
connections made (``agent_requests``), in order, with the sandbox's timestamps; the tests
assert on that recording. The bot's pacing runs on a VirtualClock (the network is real), so
"mid-typing" is a state the test holds the bot in, not a race; one test runs pacing on the
real clock with a small speed factor, and the SIGTERM test runs ``agentbot run`` as a child
process. uvicorn serves real sockets on asyncio only; a trio run goes in-process (ASGI).
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentbot import Reply, hookimpl
from agentbot.client import AgentClient, ReconnectPolicy
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import RealClock, VirtualClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.pacing import PacingSettings, plan_reply
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

from .children import child_env

FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)
WAIT_SECONDS = 15


@pytest.fixture(params=[3, 4], ids=["eio3", "eio4"])
def eio(request: pytest.FixtureRequest) -> int:
    return int(request.param)


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}", confidence=0.5)


class Harness:
    """The sandbox app, the bot, and helpers to speak as the visitor and read the wire."""

    def __init__(self, app: Any, bot: Bot, clock: Any) -> None:
        self.app = app
        self.bot = bot
        self.clock = clock
        self.control = app.state.control
        self.sandbox = app.state.sandbox
        self.bot_id = app.state.sandbox.config.bot.id
        self._visitors: dict[str, str] = {}

    def visitor(self, name: str = "Ada") -> str:
        if name not in self._visitors:
            self._visitors[name] = self.control.create_visitor(name=name)["visitor"]["id"]
        return self._visitors[name]

    def write(self, text: str, *, visitor: str = "Ada") -> tuple[str, str, str]:
        """The visitor writes; return (chat id, visitor id, message id)."""
        result = self.control.visitor_message(self.visitor(visitor), text)
        return result["chat"]["id"], self.visitor(visitor), result["message"]["id"]

    def requests(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        found = self.control.agent_requests(self.bot_id)["requests"]
        if chat_id is None:
            return found
        return [
            r
            for r in found
            if isinstance(r["args"][0], dict) and r["args"][0].get("chatId") == chat_id
        ]

    def wire(self, chat_id: str) -> list[tuple[str, Any]]:
        """The bot's requests in one chat, socket and REST in the sandbox's one order:
        ("typing", bool) / ("message", text)."""
        out: list[tuple[int, str, Any]] = []
        for request in self.requests(chat_id):
            payload = request["args"][0]
            if request["name"] == "chat.typing":
                out.append((request["seq"], "typing", payload["typing"]["is"]))
            elif request["name"] == "chat.message":
                out.append((request["seq"], "message", payload["content"]["text"]))
        rest = self.app.state.rest.requests
        for request in rest:
            if (
                request["operation"] == "POST /v2/conversations/{id}"
                and request["path"].endswith(f"/{chat_id}")
                and request.get("status") == 200
            ):
                out.append((request["seq"], "message", request["body"]["content"]["text"]))
        return [(kind, value) for _seq, kind, value in sorted(out)]

    async def wait(self, predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(WAIT_SECONDS):
            await self.sandbox.wait_until(predicate)

    async def wait_wire(self, chat_id: str, expected: list[tuple[str, Any]]) -> None:
        await self.wait(lambda: len(self.wire(chat_id)) >= len(expected))
        assert self.wire(chat_id) == expected

    async def reply_round(self, text: str, *, visitor: str) -> str:
        """A visitor writes and the bot answers (a barrier: events before it were handled)."""
        chat_id, _visitor_id, _message_id = self.write(text, visitor=visitor)
        if isinstance(self.clock, VirtualClock) and not self.clock.autojump:
            await self.clock.wait_sleepers(1)
            await self.clock.advance(60)
        await self.wait(lambda: ("typing", False) in self.wire(chat_id))
        return chat_id


@asynccontextmanager
async def bot_on_sandbox(
    eio: int,
    *plugins: object,
    clock: Any = None,
    pacing: dict[str, Any] | None = None,
    runtime: dict[str, Any] | None = None,
    track_visitors: bool = False,
    in_process: bool = False,
    send_via: str = "rest",
) -> AsyncIterator[Harness]:
    """A Bot and the sandbox over real loopback sockets (uvicorn), for the runtime's own tests.

    Why not the shipped ``agentbot_harness``: that one is in-process only (ASGI, no socket)
    and owns its clock, which is right for plugins but not for these tests. They need what it
    cannot give: the sandbox behind a real uvicorn server (TCP, Engine.IO 3 and 4 upgrades,
    dropped sockets), the choice of ``send_via``, and a clock the test chooses (autojumping,
    manual, or the real clock for the hang guard). ``in_process=True`` is kept for the trio
    runs of the same cases (uvicorn serves asyncio only) and for runtime-level tests
    (metrics, durable state, log context) that drive the bot's internals with such a clock;
    a test about a plugin's behaviour belongs on ``agentbot_harness`` instead.
    """
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    clock = clock if clock is not None else VirtualClock(autojump=True)

    @asynccontextmanager
    async def serving() -> AsyncIterator[str]:
        if in_process:
            yield "http://sandbox"
        else:
            async with running_server(app) as base_url:
                yield base_url

    async with serving() as base_url:
        config = BotConfig(
            path=None,
            smartsupp=SmartsuppSettings(
                url=base_url,
                agent_id=sandbox_config.bot.id,
                key=sandbox_config.account_key,
                auth_token=sandbox_config.bot.auth_token,
                eio=eio,
                track_visitors=track_visitors,
                send_via=send_via,
                api_url=f"{base_url}{REST_PREFIX}",
                api_token=api_token_for(sandbox_config.bot),
            ),
            pacing=PacingSettings(**(pacing or {})),
            runtime=RuntimeSettings(**(runtime or {})),
        )

        def connect() -> AgentClient:
            settings = config.smartsupp
            return AgentClient(
                settings.url,
                agent_id=settings.agent_id,
                key=settings.key,
                auth_token=settings.auth_token,
                eio=settings.eio,
                track_visitors=bot.track_visitors,
                reconnect=FAST_RECONNECT,
                asgi_app=app if in_process else None,
            )

        def outbound(bot: Bot) -> Outbound:
            return Outbound(
                config.smartsupp,
                lambda: bot.client,
                agent_id=lambda: bot.agent_id,
                wall_clock=bot.wall_clock,
                asgi_app=app if in_process else None,
            )

        with Storage(MEMORY) as storage:
            bot = Bot(
                config,
                plugins=[(f"p{i}", plugin) for i, plugin in enumerate(plugins)],
                connect=connect,
                outbound=outbound,
                clock=clock,
                storage=storage,
                entry_points={},
            )
            async with anyio.create_task_group() as tg:
                with anyio.fail_after(WAIT_SECONDS):
                    await tg.start(bot.run)
                yield Harness(app, bot, clock)
                bot.stop()


socket_backend = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only


@socket_backend
async def test_reply_is_wrapped_in_typing_on_the_wire(eio: int) -> None:
    async with bot_on_sandbox(eio, Echo()) as h:
        chat_id, visitor_id, _ = h.write("Hello?")
        await h.wait_wire(
            chat_id, [("typing", True), ("message", "echo: Hello?"), ("typing", False)]
        )
        sent = h.requests(chat_id)
        assert {(r["args"][0]["chatId"], r["args"][0]["visitorId"]) for r in sent} == {
            (chat_id, visitor_id)
        }
        assert len({r["connId"] for r in h.requests()}) == 1
        # The visitor saw the bot's answer, after the bot's typing started.
        transcript = h.control.transcript(chat_id)["entries"]
        kinds = [(e["kind"], e["by"], e.get("is", e.get("text"))) for e in transcript]
        assert ("message", "agent", "echo: Hello?") in kinds
        assert kinds.index(("typing", "agent", True)) < kinds.index(
            ("message", "agent", "echo: Hello?")
        )


async def test_reply_in_process_on_both_backends() -> None:
    async with bot_on_sandbox(4, Echo(), in_process=True) as h:
        chat_id, _, _ = h.write("Hi")
        await h.wait(lambda: len(h.wire(chat_id)) >= 3)
        wire = h.wire(chat_id)
        # With pacing at zero the REST post and the socket's typing frame race inside one
        # process (two transports); typing is on before and off after, whatever the arrival.
        assert sorted(wire, key=str) == sorted(
            [("typing", True), ("message", "echo: Hi"), ("typing", False)], key=str
        )
        assert wire.index(("typing", True)) < wire.index(("typing", False))


@socket_backend
async def test_delay_follows_the_pacing_model_with_a_small_speed_factor(eio: int) -> None:
    pacing = {"time_scale": 0.05}
    async with bot_on_sandbox(
        eio, Echo(), clock=RealClock(), pacing=pacing, send_via="socket"
    ) as h:
        chat_id, _, message_id = h.write("Do you ship to Germany?")
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))
        typing_on, message = (
            r
            for r in h.requests(chat_id)
            if r["name"] != "chat.typing" or r["args"][0]["typing"]["is"]
        )
        (planned,) = plan_reply(
            "Do you ship to Germany?",
            "echo: Do you ship to Germany?",
            PacingSettings(**pacing),
            seed=message_id,
        )
    # A sleep never ends early: the gap on the wire is at least the planned delay.
    assert message["t"] - typing_on["t"] >= planned.delay_seconds - 0.002


@socket_backend
async def test_human_joining_mid_typing_gets_typing_false_and_no_message(eio: int) -> None:
    clock = VirtualClock()
    async with bot_on_sandbox(eio, Echo(), clock=clock) as h:
        chat_id, _, _ = h.write("Hello?")
        await clock.wait_sleepers(1)
        await h.wait(lambda: h.wire(chat_id) == [("typing", True)])
        h.control.agent_join(chat_id)
        await h.wait_wire(chat_id, [("typing", True), ("typing", False)])
        await clock.advance(60)
        h.write("Is anyone there?")
        await h.reply_round("barrier", visitor="Bob")
        assert h.wire(chat_id) == [("typing", True), ("typing", False)]


@socket_backend
async def test_same_message_delivered_twice_gets_one_reply(eio: int) -> None:
    async with bot_on_sandbox(eio, Echo()) as h:
        chat_id, _, message_id = h.write("Hello?")
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))
        (conn,) = [c for c in h.sandbox.open_connections() if c.agent_id == h.bot_id]
        delivered = [
            e
            for e in h.control.events(conn.id)["events"]
            if e["name"] == "chat.message_received" and e["args"][0]["message"]["id"] == message_id
        ]
        conn.emit(*[delivered[0]["name"], *delivered[0]["args"]])  # the same event again
        await h.reply_round("barrier", visitor="Bob")
        assert h.wire(chat_id) == [("typing", True), ("message", "echo: Hello?"), ("typing", False)]
        assert h.bot.stats["duplicates"] == 1


@socket_backend
async def test_forced_reconnect_mid_conversation(eio: int) -> None:
    clock = VirtualClock()
    async with bot_on_sandbox(
        eio, Echo(), clock=clock, track_visitors=True, send_via="socket"
    ) as h:
        chat_id, _, _ = h.write("Hello?")
        await clock.wait_sleepers(1)
        await h.wait(lambda: h.wire(chat_id) == [("typing", True)])
        first_conn = h.requests()[0]["connId"]
        h.control.drop(agent_id=h.bot_id)
        # The new connection logs in again and re-applies track_visitors before anything else.
        await h.wait(
            lambda: any(
                r["connId"] != first_conn and r["name"] == "agent.track_visitors"
                for r in h.requests()
            )
        )
        second = [r for r in h.requests() if r["connId"] != first_conn]
        assert [r["name"] for r in second[:2]] == ["agent.connect", "agent.track_visitors"]
        assert second[1]["args"] == [True]
        await clock.advance(60)  # the pending reply's paced wait ends ...
        await h.wait(lambda: h.wire(chat_id).count(("typing", True)) == 2)
        await clock.wait_sleepers(1)
        await clock.advance(60)  # ... and after a human moment of typing on the new link, it goes
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))
        await h.reply_round("barrier", visitor="Bob")
        # Typing shown on the old link does not count: the new link gets typing true again
        # before the message, and typing false after it (issue 16's wire rule).
        assert h.wire(chat_id) == [
            ("typing", True),
            ("typing", True),
            ("message", "echo: Hello?"),
            ("typing", False),
        ]
        on_new = [r for r in h.requests(chat_id) if r["connId"] != first_conn]
        assert [r["name"] for r in on_new] == ["chat.typing", "chat.message", "chat.typing"]
        bot_lines = [
            e
            for e in h.control.transcript(chat_id)["entries"]
            if e["kind"] == "message" and e["by"] == "agent"
        ]
        assert [e["text"] for e in bot_lines] == ["echo: Hello?"]


class Raises:
    @hookimpl
    def on_visitor_message(self) -> Reply:
        raise RuntimeError("plugin bug")


class Hangs:
    @hookimpl
    async def on_visitor_message(self) -> Reply:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


@socket_backend
async def test_plugin_that_raises_or_hangs_leaves_the_others_answering(eio: int) -> None:
    runtime = {"hook_timeout_seconds": 0.2}
    async with bot_on_sandbox(eio, Raises(), Hangs(), Echo(), runtime=runtime) as h:
        chat_id, _, _ = h.write("Hello?")
        await h.wait_wire(
            chat_id, [("typing", True), ("message", "echo: Hello?"), ("typing", False)]
        )
        assert h.bot.host.failures == {"p0": 1}
        assert h.bot.host.timeouts == {"p1": 1}


PLUGIN = """
import agentbot

@agentbot.hookimpl
def on_visitor_message(text):
    return agentbot.Reply("a long, careful answer")
"""


@socket_backend
async def test_sigterm_mid_typing_sends_typing_false_before_exit(eio: int, tmp_path: Path) -> None:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    control = app.state.control
    sandbox = app.state.sandbox
    (tmp_path / "answer.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")

    def logged_in() -> bool:
        agents = control.connections(side="agent")["connections"]
        return any(c["authenticated"] for c in agents)

    def chat_requests(chat_id: str) -> list[dict[str, Any]]:
        return [
            r
            for r in control.agent_requests(sandbox_config.bot.id)["requests"]
            if isinstance(r["args"][0], dict) and r["args"][0].get("chatId") == chat_id
        ]

    log = bytearray()

    async def drain(stream: Any) -> None:
        async for chunk in stream:
            log.extend(chunk)

    async with running_server(app) as base_url:
        (tmp_path / "bot.toml").write_text(
            textwrap.dedent(
                f"""
                [smartsupp]
                url = "{base_url}"
                agent_id = "{sandbox_config.bot.id}"
                key = "{sandbox_config.account_key}"
                eio = {eio}
                send_via = "socket"
                [pacing]
                min_seconds = 60.0
                max_seconds = 60.0
                [runtime]
                storage_path = "bot.sqlite3"
                [plugins.answer]
                path = "answer.py"
                """
            ),
            encoding="utf-8",
        )
        env = {**os.environ, "AGENTBOT_AUTH_TOKEN": sandbox_config.bot.auth_token}
        command = [sys.executable, "-c", "from agentbot.cli import main; main()", "run"]
        command += ["-c", "bot.toml", "--log-format", "json"]
        async with (
            await anyio.open_process(command, cwd=tmp_path, env=env) as process,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(drain, process.stderr)
            with anyio.fail_after(30):
                await sandbox.wait_until(logged_in)
            visitor = control.create_visitor(name="Ada")["visitor"]["id"]
            chat_id = control.visitor_message(visitor, "Hello?")["chat"]["id"]
            with anyio.fail_after(30):
                await sandbox.wait_until(lambda: len(chat_requests(chat_id)) == 1)
            signalled = anyio.current_time()
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                returncode = await process.wait()
            shutdown_seconds = anyio.current_time() - signalled
        print(
            f"agentbot run exited {returncode} {shutdown_seconds:.2f} s after SIGTERM (EIO {eio})"
        )
        text = log.decode(errors="replace")
        assert returncode == 0, text
        assert "SIGTERM received: shutting down" in text
        assert sandbox_config.bot.auth_token not in text
        assert [(r["name"], r["args"][0]["typing"]["is"]) for r in chat_requests(chat_id)] == [
            ("chat.typing", True),
            ("chat.typing", False),
        ]
        (conn,) = control.connections(side="agent")["connections"]
        assert not conn["open"]


async def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    command = [sys.executable, "-c", "from agentbot.cli import main; main()", *args]
    with anyio.fail_after(60):
        result = await anyio.run_process(command, cwd=cwd, env=env, check=False)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@socket_backend
@pytest.mark.parametrize("token_ok", [True, False], ids=["right-key", "wrong-key"])
async def test_check_tries_the_login(tmp_path: Path, token_ok: bool) -> None:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    (tmp_path / "answer.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    token = sandbox_config.bot.auth_token if token_ok else "not-the-token"
    async with running_server(app) as base_url:
        (tmp_path / "bot.toml").write_text(
            f'[smartsupp]\nurl = "{base_url}"\nagent_id = "{sandbox_config.bot.id}"\n'
            f'key = "{sandbox_config.account_key}"\nauth_token = "{token}"\n'
            '[plugins.answer]\npath = "answer.py"\n',
            encoding="utf-8",
        )
        env = child_env()
        code, out, err = await run_cli("check", "-c", "bot.toml", cwd=tmp_path, env=env)
    assert sandbox_config.account_key not in out + err
    assert token not in out + err
    if token_ok:
        assert code == 0, err
        assert f"login: ok as agent {sandbox_config.bot.id}" in out
        assert "1. answer (file " in out
    else:
        assert code == 1
        assert err.strip().startswith("Error: login failed:")
        assert "auth_failure" in err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


async def test_a_rest_401_is_one_clear_error_and_the_bot_stops_without_retrying(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # REST auth (VENDOR-SOURCES §3, S5: "401 Unauthorized. The API Key was not authorised"):
    # a wrong or expired token is final — one attempt, one error line, the bot stops.
    async with bot_on_sandbox(4, Echo(), in_process=True) as h:
        h.control.rest_fault(action="unauthorized", operation="POST /v2/conversations/{id}")
        h.write("Hello?")
        await h.wait(lambda: h.bot.stopping)  # the 401 arrives as a sandbox change
        posts = [
            r for r in h.app.state.rest.requests if r["operation"] == "POST /v2/conversations/{id}"
        ]
        assert [r["status"] for r in posts] == [401]
        assert h.bot.closed_reason == "rest_auth_failure"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("api_token" in line and "AGENTBOT_API_TOKEN" in line for line in errors)
    token = api_token_for(SandboxConfig().bot)
    assert all(token not in r.getMessage() for r in caplog.records)
