"""examples/deploy, run for real: the systemd unit's ExecStart and the image's CMD.

No service manager or container engine runs here, so each test takes the command line the
file contains — ExecStart= of agentbot.service, CMD of the Dockerfile's final stage — and
runs exactly it against the sandbox (over loopback), with what systemd or docker would have
provided instead: the environment file's variables (pointing at the sandbox), the working
directory, and the shipped bot.toml at the path the command names (a copy whose storage path
points into the test's folder). Each must log in, answer /readyz and /metrics where the
endpoint is on, and exit 0 soon after SIGTERM, within the stop timeout the file declares.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

from .test_deploy import DEPLOY, dockerfile

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only

SHIPPED_CONFIG = "/etc/agentbot/bot.toml"
DOCKER_STOP_SECONDS = 10.0  # docker stop's default wait before SIGKILL


def agentbot_executable() -> str:
    """The agentbot script of the environment running the tests (the unit's venv stand-in)."""
    found = Path(sys.executable).parent / "agentbot"
    if found.exists():
        return str(found)
    which = shutil.which("agentbot")
    if which is None:
        pytest.fail("the agentbot console script is not installed (pip install -e .)")
    return which


def systemd_service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "agentbot.service", encoding="utf-8")
    return parser["Service"]


def config_copy(folder: Path, *, listen: str | None) -> Path:
    """The shipped bot.toml with its storage moved into ``folder`` (and the endpoint on)."""
    text = (DEPLOY / "bot.toml").read_text(encoding="utf-8")
    text = text.replace("/var/lib/agentbot/agentbot.sqlite3", str(folder / "agentbot.sqlite3"))
    if listen is not None:  # uncomment the shipped [server] lines, on a free port
        shipped = ("# [server]", '# listen = "127.0.0.1:9108"')
        assert all(line in text for line in shipped)
        text = text.replace(shipped[0], "[server]").replace(shipped[1], f'listen = "{listen}"')
    path = folder / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def run_deployed(
    command: list[str],
    *,
    folder: Path,
    env: dict[str, str],
    stop_within_seconds: float,
    check_endpoint: bool,
) -> str:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    control, sandbox = app.state.control, app.state.sandbox
    log = bytearray()

    def logged_in() -> bool:
        agents = control.connections(side="agent")["connections"]
        return any(c["authenticated"] for c in agents)

    async def drain(stream: Any) -> None:
        async for chunk in stream:
            log.extend(chunk)

    async with running_server(app) as base_url:
        environment = {
            **os.environ,
            **env,
            "AGENTBOT_URL": base_url,
            "AGENTBOT_AGENT_ID": sandbox_config.bot.id,
            "AGENTBOT_KEY": sandbox_config.account_key,
            "AGENTBOT_AUTH_TOKEN": sandbox_config.bot.auth_token,
            "AGENTBOT_API_URL": f"{base_url}{REST_PREFIX}",
            "AGENTBOT_API_TOKEN": api_token_for(sandbox_config.bot),
        }
        async with (
            await anyio.open_process(command, cwd=folder, env=environment) as process,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(drain, process.stderr)
            tg.start_soon(drain, process.stdout)
            try:
                with anyio.fail_after(30):
                    await sandbox.wait_until(logged_in)
                if check_endpoint:
                    await check_operations_endpoint(log)
            except BaseException:
                if process.returncode is None:
                    process.kill()
                print(log.decode(errors="replace"))  # the child's log, for the failure report
                raise
            signalled = anyio.current_time()
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(stop_within_seconds):
                returncode = await process.wait()
            stopped_after = anyio.current_time() - signalled
    text = log.decode(errors="replace")
    assert returncode == 0, text
    assert stopped_after < stop_within_seconds
    assert "SIGTERM received: shutting down" in text
    assert sandbox_config.bot.auth_token not in text
    assert sandbox_config.account_key not in text
    return text


async def check_operations_endpoint(log: bytearray) -> None:
    url = None
    with anyio.fail_after(10):
        while url is None:
            for line in log.decode(errors="replace").splitlines():
                if "operations endpoint on " in line:
                    url = json.loads(line)["message"].split("operations endpoint on ")[1].split()[0]
            if url is None:
                await anyio.sleep(0.05)  # polls the child's log; the child runs on its own
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        ready = await http.get("/readyz")  # the sandbox saw the login: the bot is in
        assert ready.status_code == 200, ready.text
        assert ready.json()["ready"] is True
        metrics = await http.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    (up,) = families["agentbot_connection_up"].samples
    assert up.value == 1.0


async def test_the_systemd_exec_start_line_runs_the_bot_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    service = systemd_service()
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/opt/agentbot/venv/bin/agentbot"
    command[0] = agentbot_executable()
    config = config_copy(tmp_path, listen="127.0.0.1:0")
    command = [str(config) if part == SHIPPED_CONFIG else part for part in command]
    assert str(config) in command
    assert service["KillSignal"] == "SIGTERM"
    text = await run_deployed(
        command,
        folder=tmp_path,  # WorkingDirectory=/var/lib/agentbot
        env={},
        stop_within_seconds=float(service["TimeoutStopSec"]),
        check_endpoint=True,
    )
    # --log-format json, as journald will store it: every line is one JSON object.
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    assert all(json.loads(line) for line in lines)


async def test_the_docker_image_entry_point_runs_the_bot_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    instructions = dockerfile()
    final_stage = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    keywords = dict(final_stage)
    assert "ENTRYPOINT" not in keywords  # CMD is the whole command
    command = json.loads(keywords["CMD"])
    assert command[0] == "agentbot"
    command[0] = agentbot_executable()
    # COPY examples/deploy/bot.toml /etc/agentbot/bot.toml: the same file, here.
    config = config_copy(tmp_path, listen=None)
    command = [str(config) if part == SHIPPED_CONFIG else part for part in command]
    env = dict(part.split("=", 1) for part in keywords["ENV"].split())
    assert keywords["STOPSIGNAL"] == "SIGTERM"
    text = await run_deployed(
        command,
        folder=tmp_path,  # WORKDIR /var/lib/agentbot
        env=env,
        stop_within_seconds=DOCKER_STOP_SECONDS,
        check_endpoint=False,
    )
    assert '"logged in as agent' in text or "logged in as agent" in text
