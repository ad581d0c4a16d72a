"""Many bots in one process (issue 14 item 2), against real sandboxes.

Each sandbox is one Smartsupp account, so two sandboxes are two customers of an agency: a
bot answering the other account's visitor would be a leak the test sees. On asyncio the
sandboxes serve real loopback sockets (uvicorn); on trio they run in-process (ASGI), as in
test_e2e_sandbox.py. Pacing runs on an autojumping virtual clock.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from agentbot import Reply, hookimpl
from agentbot.client import AgentClient, ReconnectPolicy
from agentbot.errors import ConfigError
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, SmartsuppSettings
from agentbot.runtime.fleet import Fleet, LoginRetry, Member, load_fleet, storage_path_for
from agentbot.runtime.logs import BotField
from agentbot.runtime.ops_server import OpsServer
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.sandbox import SandboxConfig, create_app, running_server

WAIT_SECONDS = 15
FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)


class Signed:
    """Answers every visitor message with the bot's own name, so a leak shows."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"{self.name}: {text}", confidence=0.5)


@asynccontextmanager
async def sandboxes(count: int, *, backend: str) -> AsyncIterator[list[tuple[Any, str]]]:
    """``count`` sandbox accounts: (app, base URL) each; real sockets on asyncio."""
    async with AsyncExitStack() as stack:
        found = []
        for _ in range(count):
            app = create_app(SandboxConfig())
            if backend == "asyncio":
                url = await stack.enter_async_context(running_server(app))
            else:
                url = "http://sandbox"
            found.append((app, url))
        yield found


def member(name: str, app: Any, url: str, *, key: str | None = None) -> Member:
    config = app.state.sandbox.config
    return Member(
        name=name,
        config=BotConfig(
            path=None,
            smartsupp=SmartsuppSettings(
                url=url,
                agent_id=config.bot.id,
                key=key if key is not None else config.account_key,
                auth_token=config.bot.auth_token,
                send_via="socket",
            ),
        ),
    )


def fleet_on(
    members: list[tuple[Member, Any]],
    *,
    backend: str,
    clock: VirtualClock | None = None,
    bot_class: type[Bot] = Bot,
    max_concurrent_logins: int = 32,
) -> Fleet:
    apps = {m.name: app for m, app in members}

    def make_bot(name: str, config: BotConfig, storage: Storage | None) -> Bot:
        app = apps[name]
        in_process = backend != "asyncio" and config.smartsupp.url == "http://sandbox"

        def connect() -> AgentClient:
            s = config.smartsupp
            return AgentClient(
                s.url,
                agent_id=s.agent_id,
                key=s.key,
                auth_token=s.auth_token,
                eio=s.eio,
                reconnect=FAST_RECONNECT,
                asgi_app=app if in_process else None,
            )

        return bot_class(
            config,
            plugins=[("signed", Signed(name))],
            connect=connect,
            clock=VirtualClock(autojump=True),
            storage=storage,
            entry_points={},
        )

    return Fleet(
        [m for m, _app in members],
        make_bot=make_bot,
        open_storage=lambda _m: Storage(MEMORY),
        clock=clock,
        retry=LoginRetry(initial_delay_seconds=5.0),
        seed=1,
        max_concurrent_logins=max_concurrent_logins,
    )


def messages(app: Any) -> list[str]:
    control = app.state.control
    bot_id = app.state.sandbox.config.bot.id
    return [
        r["args"][0]["content"]["text"]
        for r in control.agent_requests(bot_id)["requests"]
        if r["name"] == "chat.message"
    ]


async def visitor_writes(app: Any, text: str) -> None:
    control = app.state.control
    visitor = control.create_visitor(name="Ada")["visitor"]["id"]
    control.visitor_message(visitor, text)
    with anyio.fail_after(WAIT_SECONDS):
        await app.state.sandbox.wait_until(lambda: len(messages(app)) >= 1)


async def test_two_bots_each_answer_their_own_chats(anyio_backend: str) -> None:
    async with sandboxes(2, backend=anyio_backend) as [(app_a, url_a), (app_b, url_b)]:
        fleet = fleet_on(
            [(member("a", app_a, url_a), app_a), (member("b", app_b, url_b), app_b)],
            backend=anyio_backend,
        )
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(WAIT_SECONDS):
                await tg.start(fleet.run)
            assert fleet.states == {"a": "logged_in", "b": "logged_in"}
            await visitor_writes(app_a, "hello A")
            await visitor_writes(app_b, "hello B")
            _ready, details = OpsServer(fleet.metrics).readiness()
            fleet.stop()
        assert messages(app_a) == ["a: hello A"]
        assert messages(app_b) == ["b: hello B"]
        assert details["bots"] == {"a": {"logged_in": True}, "b": {"logged_in": True}}
        assert fleet.states == {"a": "stopped", "b": "stopped"}


async def test_a_wrong_key_stops_only_that_bot_and_logs_its_name(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(BotField())
    caplog.set_level(logging.INFO)
    async with sandboxes(2, backend=anyio_backend) as [(app_a, url_a), (app_b, url_b)]:
        fleet = fleet_on(
            [
                (member("good", app_a, url_a), app_a),
                (member("broken", app_b, url_b, key="not-the-key"), app_b),
            ],
            backend=anyio_backend,
        )
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(WAIT_SECONDS):
                await tg.start(fleet.run)
            assert fleet.states == {"good": "logged_in", "broken": "auth_failure"}
            await visitor_writes(app_a, "still there?")
            ready, details = OpsServer(fleet.metrics).readiness()
            fleet.stop()
    assert messages(app_a) == ["good: still there?"]
    assert messages(app_b) == []
    assert not ready
    assert details["bots"]["broken"] == {"logged_in": False, "closed_reason": "auth_failure"}
    assert "bot broken is not logged in" in details["reasons"]
    refused = [r for r in caplog.records if "login refused" in r.getMessage()]
    # The fleet's line and the client's own (logged deep inside the bot's task) name it.
    assert {r.name for r in refused} == {"agentbot.runtime.fleet", "agentbot.client"}
    assert {getattr(r, "bot", None) for r in refused} == {"broken"}
    # Lines the runtime logs inside each bot's task carry that bot's name too.
    logged_in = {getattr(r, "bot", None) for r in caplog.records if "logged in as" in r.msg}
    assert logged_in == {"good"}
    failures = fleet.metrics.registry.get_sample_value(
        "agentbot_login_failures_total", {"bot": "broken", "reason": "auth_failure"}
    )
    assert failures == 1.0


async def test_an_unreachable_server_is_retried_with_backoff(anyio_backend: str) -> None:
    clock = VirtualClock()
    async with sandboxes(1, backend=anyio_backend) as [(app, url)]:
        down = member("down", app, "http://127.0.0.1:9")  # discard port: refused
        fleet = fleet_on([(member("up", app, url), app), (down, app)], backend=anyio_backend)
        fleet.clock = clock
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(WAIT_SECONDS):
                await tg.start(fleet.run)
            assert fleet.states == {"up": "logged_in", "down": "retrying"}
            first = fleet.bots["down"]
            with anyio.fail_after(WAIT_SECONDS):
                await clock.wait_sleepers(1)
            await clock.advance(5.0)  # past the first delay (full jitter under 5 s)
            with anyio.fail_after(WAIT_SECONDS):
                await clock.wait_sleepers(1)  # the second attempt failed too: waiting again
            assert fleet.bots["down"] is not first  # a fresh Bot per attempt
            assert len(clock.sleeps) == 2
            assert 0 <= clock.sleeps[0] <= 5.0
            assert 0 <= clock.sleeps[1] <= 10.0  # the ceiling doubles
            assert fleet.states["down"] == "retrying"
            assert fleet.states["up"] == "logged_in"
            fleet.stop()
    assert fleet.states == {"up": "stopped", "down": "stopped"}


def write_bot(folder: Path, name: str, *, storage: str | None = None, listen: str = "") -> None:
    runtime = f'[runtime]\nstorage_path = "{storage}"\n' if storage else ""
    server = f'[server]\nlisten = "{listen}"\n' if listen else ""
    (folder / f"{name}.toml").write_text(
        f'[smartsupp]\nagent_id = "{name}"\nkey = "k-{name}"\n{runtime}{server}',
        encoding="utf-8",
    )


def test_a_folder_loads_every_toml_file_as_a_named_bot(tmp_path: Path) -> None:
    write_bot(tmp_path, "shop-b")
    write_bot(tmp_path, "shop-a", storage="a.sqlite3")
    (tmp_path / "notes.txt").write_text("not a bot", encoding="utf-8")
    members = load_fleet([tmp_path], env={})
    assert [m.name for m in members] == ["shop-a", "shop-b"]
    assert storage_path_for(members[0]) == tmp_path / "a.sqlite3"
    own = storage_path_for(members[1])
    assert own is not None
    assert own.name == "shop-b.sqlite3"
    assert own.parent.name == "fleet"


def test_two_bots_on_one_storage_file_are_refused(tmp_path: Path) -> None:
    write_bot(tmp_path, "a", storage="same.sqlite3")
    write_bot(tmp_path, "b", storage="same.sqlite3")
    with pytest.raises(ConfigError, match="same storage file"):
        load_fleet([tmp_path], env={})


def test_bots_must_agree_on_the_operations_endpoint(tmp_path: Path) -> None:
    write_bot(tmp_path, "a", storage="a.db", listen="127.0.0.1:9108")
    write_bot(tmp_path, "b", storage="b.db", listen="127.0.0.1:9109")
    fleet = Fleet(load_fleet([tmp_path], env={}))
    with pytest.raises(ConfigError, match="one operations endpoint"):
        fleet.listen  # noqa: B018


def test_an_empty_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \*\.toml"):
        load_fleet([tmp_path], env={})


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn serves the sandboxes
async def test_agentbot_run_with_a_folder_runs_both_and_sigterm_stops_all(
    anyio_backend: str, tmp_path: Path
) -> None:
    async with sandboxes(2, backend="asyncio") as found:
        bots = tmp_path / "bots"
        bots.mkdir()
        for name, (app, url) in zip(("a", "b"), found, strict=True):
            config = app.state.sandbox.config
            (bots / f"{name}.toml").write_text(
                textwrap.dedent(
                    f"""
                    [smartsupp]
                    url = "{url}"
                    agent_id = "{config.bot.id}"
                    key = "{config.account_key}"
                    auth_token = "{config.bot.auth_token}"
                    send_via = "socket"
                    [runtime]
                    storage_path = "{name}.sqlite3"
                    """
                ),
                encoding="utf-8",
            )
        log = bytearray()

        async def drain(stream: Any) -> None:
            async for chunk in stream:
                log.extend(chunk)

        def online(app: Any) -> bool:
            return bool(app.state.sandbox.agent_status(app.state.sandbox.config.bot.id) == "online")

        command = [sys.executable, "-c", "from agentbot.cli import main; main()", "run"]
        command += ["-c", str(bots), "--log-format", "json"]
        async with (
            await anyio.open_process(command, cwd=tmp_path, env=dict(os.environ)) as process,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(drain, process.stderr)
            with anyio.fail_after(30):
                for app, _url in found:
                    await app.state.sandbox.wait_until(lambda app=app: online(app))
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                returncode = await process.wait()
        text = log.decode(errors="replace")
        assert returncode == 0, text
        assert (bots / "a.sqlite3").exists()
        assert (bots / "b.sqlite3").exists()
        lines = [line for line in text.splitlines() if '"logged in as agent' in line]
        assert len(lines) == 2, text
        assert any('"bot": "a"' in line for line in lines)
        assert any('"bot": "b"' in line for line in lines)
        assert "SIGTERM received: stopping every bot" in text
        for app, _url in found:
            assert not online(app)
        for app, _url in found:
            assert app.state.sandbox.config.bot.auth_token not in text


async def test_the_bots_of_a_fleet_share_one_tls_context(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS context loads the CA bundle (0.8 MB, 18 ms): one per bot sank 1,000 bots."""
    import ssl

    from agentbot.client.rest import RestApi, shared_ssl_context

    made: list[object] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args or kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    shared_ssl_context.cache_clear()
    async with sandboxes(3, backend=anyio_backend) as found:
        fleet = fleet_on(
            [(member(f"b{i}", app, url), app) for i, (app, url) in enumerate(found)],
            backend=anyio_backend,
        )
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(WAIT_SECONDS):
                await tg.start(fleet.run)
            assert set(fleet.states.values()) == {"logged_in"}
            fleet.stop()
        rest = RestApi(base_url="https://api.example.invalid", token="t0ken-unused")
        assert rest._client is None  # made at the first request, not per bot at start
        await rest.aclose()
    assert len(made) == 1  # three bots' socket clients, one context
    shared_ssl_context.cache_clear()


async def test_bots_log_in_in_turns_at_most_max_concurrent_logins_at_once(
    anyio_backend: str,
) -> None:
    """A thousand logins at once each outlasted the login timeout; in turns, each is quick."""
    in_flight: list[str] = []
    most = 0

    class Counted(Bot):
        async def run(
            self, *, task_status: anyio.abc.TaskStatus[Bot] = anyio.TASK_STATUS_IGNORED
        ) -> None:
            nonlocal most
            name = self.config.smartsupp.agent_id + self.config.smartsupp.url
            in_flight.append(name)
            most = max(most, len(in_flight))
            outer = task_status

            class Done:
                def started(self, value: Any = None) -> None:
                    in_flight.remove(name)
                    outer.started(value)

            await anyio.lowlevel.checkpoint()  # let the others start, were they allowed to
            await super().run(task_status=Done())

    async with sandboxes(4, backend=anyio_backend) as found:
        fleet = fleet_on(
            [(member(f"b{i}", app, url), app) for i, (app, url) in enumerate(found)],
            backend=anyio_backend,
            bot_class=Counted,
            max_concurrent_logins=2,
        )
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(WAIT_SECONDS):
                await tg.start(fleet.run)
            assert set(fleet.states.values()) == {"logged_in"}
            fleet.stop()
    assert most == 2
    assert in_flight == []
