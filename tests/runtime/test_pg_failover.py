"""Two replicas of one bot on PostgreSQL: exactly one logged in, a SIGKILL, a takeover, no loss.

Real parts only: the sandbox served by uvicorn on loopback, a real PostgreSQL (``tests/pg``'s
fixture: initdb + pg_ctl on a free loopback port), and each replica a child process running
``agentbot run -c bot.toml`` on the same file (``[runtime] storage_url``, a short
``lease_ttl_seconds``). Visitors keep writing while the active replica is killed with
SIGKILL, some of its replies pacing or in flight; the standby must take over (lease, then
login, then the resync of the shared outbox and inbox) and every visitor message must be
answered exactly once — counted in the sandbox's transcripts, the server's own record.

Also: a standby says so and is not ready (``/readyz`` 503 "standby"), answers SIGTERM with
exit 0, and an active replica whose lease is taken from it stops at once with exit 1 and one
line. The measured takeover time (SIGKILL to the standby's login) goes to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx
import psycopg
import pytest

from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX
from tests.pg.conftest import pg_cluster, pg_dsn  # noqa: F401 - fixtures
from tests.test_reloader import Output

from .children import child_env

WAIT_SECONDS = 40
LEASE_TTL_SECONDS = 1.5
VISITORS = ("Ada", "Bob", "Cyd", "Dee")
TURNS = 6

PLUGIN = """
import agentbot

@agentbot.hookimpl
def on_visitor_message(bot, chat_id, text):
    return agentbot.Reply("echo: " + text)
"""


def write_config(folder: Path, base_url: str, sandbox: SandboxConfig, dsn: str) -> None:
    (folder / "answer.py").write_text(PLUGIN, encoding="utf-8")
    (folder / "bot.toml").write_text(
        textwrap.dedent(
            f"""
            [smartsupp]
            url = "{base_url}"
            agent_id = "{sandbox.bot.id}"
            api_url = "{base_url}{REST_PREFIX}"
            [pacing]
            time_scale = 0.1
            [runtime]
            storage_url = "{dsn}"
            lease_ttl_seconds = {LEASE_TTL_SECONDS}
            [server]
            listen = "127.0.0.1:0"
            [plugins.answer]
            path = "answer.py"
            """
        ),
        encoding="utf-8",
    )


def bot_env(sandbox: SandboxConfig) -> dict[str, str]:
    return child_env(sandbox, rest=True)


def ops_port(output: Output) -> int:
    found = re.search(r"operations endpoint on http://127\.0\.0\.1:(\d+)", output.text)
    assert found, output.text
    return int(found.group(1))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
async def test_sigkill_of_the_active_replica_loses_and_doubles_nothing(
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811 - the fixture
    test_artifacts: Path,
) -> None:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config, pages=False)
    control = app.state.control
    sandbox = app.state.sandbox

    def logins() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = control.connections(side="agent")["connections"]
        return [c for c in found if c["authenticated"]]

    def open_logins() -> int:
        return sum(1 for c in logins() if c["open"])

    def answers(chat_id: str) -> list[str]:
        entries = control.transcript(chat_id)["entries"]
        return [e["text"] for e in entries if e["kind"] == "message" and e["by"] == "agent"]

    async def until(predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(WAIT_SECONDS):
            await sandbox.wait_until(predicate)

    visitors = [control.create_visitor(name=name)["visitor"]["id"] for name in VISITORS]
    chats: dict[str, str] = {}
    sent: dict[str, list[str]] = {v: [] for v in visitors}

    def answered(visitor: str) -> int:
        return len(answers(chats[visitor])) if visitor in chats else 0

    def pending() -> int:
        return sum(1 for v in visitors if answered(v) < len(sent[v]))

    async def converse(visitor: str) -> None:
        # A person's pace: the next line once the last one is answered (two lines in a row
        # would be answered together: the runtime's interruptible replies, by design).
        for turn in range(TURNS):
            text = f"line {turn} from {visitor[-4:]}"
            reply = control.visitor_message(visitor, text)
            chats[visitor] = reply["chat"]["id"]
            sent[visitor].append(f"echo: {text}")
            await until(lambda: answered(visitor) >= len(sent[visitor]))

    command = [sys.executable, "-m", "agentbot", "run", "-c", "bot.toml"]
    processes: list[anyio.abc.Process] = []
    outputs: list[Output] = []
    figures: dict[str, Any] = {"lease_ttl_seconds": LEASE_TTL_SECONDS}

    async with running_server(app) as base_url, anyio.create_task_group() as tg:
        write_config(tmp_path, base_url, sandbox_config, pg_dsn)

        async def start() -> tuple[anyio.abc.Process, Output]:
            process = await anyio.open_process(
                command, cwd=tmp_path, env=bot_env(sandbox_config), stderr=-1, stdout=-1
            )
            processes.append(process)
            output = Output()
            outputs.append(output)
            assert process.stderr is not None
            tg.start_soon(output.drain, process.stderr)
            return process, output

        try:
            first, _first_log = await start()
            await until(lambda: open_logins() == 1)
            second, second_log = await start()
            with anyio.fail_after(WAIT_SECONDS):
                await second_log.wait_for("standby: another replica holds the lease")
                await second_log.wait_for("operations endpoint on")
            async with httpx.AsyncClient() as http:
                standby = await http.get(f"http://127.0.0.1:{ops_port(second_log)}/readyz")
            assert standby.status_code == 503
            assert any(b.get("standby") for b in standby.json()["bots"].values())

            async with anyio.create_task_group() as talk:
                for visitor in visitors:
                    talk.start_soon(converse, visitor)
                # Mid-conversation: some replies are pacing or in flight when it dies.
                await until(lambda: sum(answered(v) for v in visitors) >= len(visitors) + 2)
                assert open_logins() == 1  # the standby never logged in
                figures["pending_at_kill"] = pending()
                figures["answered_before_kill"] = sum(answered(v) for v in visitors)
                first.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                with anyio.fail_after(WAIT_SECONDS):
                    assert await first.wait() == -signal.SIGKILL
                await until(lambda: len(logins()) == 2 and open_logins() == 1)
                figures["takeover_seconds"] = round(time.monotonic() - killed_at, 3)
            figures["visitor_messages"] = sum(len(sent[v]) for v in visitors)
            assert figures["pending_at_kill"] >= 1, figures

            # A third replica waits as a standby, and SIGTERM ends the wait with exit 0.
            third, third_log = await start()
            with anyio.fail_after(WAIT_SECONDS):
                await third_log.wait_for("standby: another replica holds the lease")
            third.send_signal(signal.SIGTERM)
            with anyio.fail_after(WAIT_SECONDS):
                assert await third.wait() == 0

            # The active replica whose lease is taken stops at once: exit 1, one line.
            with psycopg.connect(pg_dsn, autocommit=True) as db:
                db.execute(
                    "UPDATE agentbot_lease SET holder = 'someone else', generation = generation + 1"
                )
            with anyio.fail_after(WAIT_SECONDS):
                assert await second.wait() == 1
            await until(lambda: open_logins() == 0)
        except BaseException:
            for index, output in enumerate(outputs):
                print(f"--- replica {index + 1} ---\n{output.text}")
            raise
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                with anyio.CancelScope(shield=True):
                    await process.aclose()
            tg.cancel_scope.cancel()

    assert len(logins()) == 2  # the first replica, then the second: never the third
    for visitor in visitors:
        assert answers(chats[visitor]) == sent[visitor], visitor  # each exactly once, in order
    assert "taken by another replica" in second_log.text
    error_lines = [line for line in second_log.text.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, second_log.text
    (test_artifacts / "failover.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"failover figures: {figures}")
