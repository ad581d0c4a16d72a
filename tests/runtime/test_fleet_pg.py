"""Fleet bots go through the lease (issue 14): two fleet processes sharing a bot, one login.

Real parts only: the sandbox served by uvicorn on loopback, a real PostgreSQL (``tests/pg``'s
fixture), and two child processes each running ``agentbot run -c bots/`` (fleet mode) on the
same bot file with ``[runtime] storage_url``. The sandbox's own connection records say how
many agent sessions are logged in: exactly one while both processes run, and the second
process's bot takes over when the first stops. The bot's plugin logs its option marked
secret; neither process's log shows it (redacted as on the single-bot path).
"""

from __future__ import annotations

import signal
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from agentbot.sandbox import SandboxConfig, create_app, running_server
from tests.pg.conftest import pg_cluster, pg_dsn  # noqa: F401 - fixtures
from tests.test_reloader import Output

from .children import child_env

WAIT_SECONDS = 40
PLUGIN_SECRET = "plg-s3cr3t-4f9a27c1"

PLUGIN = """
import logging

import attrs

import agentbot


@attrs.frozen
class Options:
    token: str = attrs.field(default="", repr=False, metadata={"secret": True})


@agentbot.hookimpl
def register_config(register):
    register(Options)


@agentbot.hookimpl
def on_start(bot):
    logging.getLogger("plugins.leaky").warning("leaky token is %s", bot.config.token)
"""


def write_bot(folder: Path, base_url: str, sandbox: SandboxConfig, dsn: str) -> None:
    folder.mkdir()
    (folder / "leaky.py").write_text(PLUGIN, encoding="utf-8")
    (folder / "shared.toml").write_text(
        textwrap.dedent(
            f"""
            [smartsupp]
            url = "{base_url}"
            agent_id = "{sandbox.bot.id}"
            key = "{sandbox.account_key}"
            auth_token = "{sandbox.bot.auth_token}"
            send_via = "socket"
            [runtime]
            storage_url = "{dsn}"
            lease_ttl_seconds = 1.5
            [plugins.leaky]
            path = "leaky.py"
            token = "{PLUGIN_SECRET}"
            """
        ),
        encoding="utf-8",
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
async def test_two_fleet_processes_sharing_a_bot_log_in_once(
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811 - the fixture
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

    async def until(predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(WAIT_SECONDS):
            await sandbox.wait_until(predicate)

    env = child_env()
    command = [sys.executable, "-m", "agentbot", "run", "-c", "bots", "--log-format", "json"]
    processes: list[anyio.abc.Process] = []
    async with running_server(app) as base_url, anyio.create_task_group() as tg:
        write_bot(tmp_path / "bots", base_url, sandbox_config, pg_dsn)

        async def start() -> tuple[anyio.abc.Process, Output]:
            process = await anyio.open_process(command, cwd=tmp_path, env=env, stderr=-1)
            processes.append(process)
            output = Output()
            assert process.stderr is not None
            tg.start_soon(output.drain, process.stderr)
            return process, output

        try:
            first, first_log = await start()
            await until(lambda: open_logins() == 1)
            second, second_log = await start()
            with anyio.fail_after(WAIT_SECONDS):
                await second_log.wait_for("standby: another replica holds the lease")
            # The fleet's standby waits; it does not log in beside the active one.
            assert "logged in as agent" not in second_log.text
            assert len(logins()) == 1
            assert open_logins() == 1

            first.send_signal(signal.SIGTERM)  # a clean stop releases the lease ...
            with anyio.fail_after(WAIT_SECONDS):
                assert await first.wait() == 0, first_log.text
            await until(lambda: len(logins()) == 2 and open_logins() == 1)  # ... taken over
            with anyio.fail_after(WAIT_SECONDS):
                await second_log.wait_for("logged in as agent")
                await second_log.wait_for("leaky token is")
            second.send_signal(signal.SIGTERM)
            with anyio.fail_after(WAIT_SECONDS):
                assert await second.wait() == 0, second_log.text
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
            tg.cancel_scope.cancel()
    for output in (first_log, second_log):
        assert '"bot": "shared"' in output.text
        assert "leaky token is ***" in output.text  # the plugin's line is there, redacted
        assert PLUGIN_SECRET not in output.text
        assert sandbox_config.bot.auth_token not in output.text
