"""``agentbot run --reload``: what it watches, and a bot that follows the plugin's edits.

The end-to-end test runs ``agentbot run --reload`` as a child process against the sandbox on
loopback (uvicorn: asyncio only), edits the plugin file and checks that the next answer
comes from the new code, that a broken edit is survived and a fix picks up again, and that
SIGTERM ends it all cleanly. It waits on what the sandbox sees (connections, transcript)
and on the supervisor's own output, never on the clock.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
import watchfiles

from agentbot.reloader import watch_filter, watch_paths
from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

REPO_ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 30


def write_bot_toml(folder: Path, body: str) -> Path:
    path = folder / "bot.toml"
    path.write_text(
        '[smartsupp]\nagent_id = "bot-1"\nkey = "k"\n' + textwrap.dedent(body), encoding="utf-8"
    )
    return path


def test_watch_paths_are_the_config_the_path_plugins_and_editable_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "local.py").write_text("", encoding="utf-8")
    package = tmp_path / "lib" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "hooks.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    config = write_bot_toml(
        tmp_path,
        """
        [plugins.local]
        path = "local.py"
        [plugins.dotted]
        path = "mypkg.hooks:Plugin"
        [plugins.greeter]
        [plugins.off]
        path = "off.py"
        enabled = false
        """,
    )
    paths = watch_paths(config)
    assert paths[:3] == [config, tmp_path / "local.py", package]
    # The built-in greeter lives in this checkout (editable install): watched too.
    assert paths[3:] == [REPO_ROOT / "plugins"]


def test_a_broken_config_is_still_watched(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text("[smartsupp\n", encoding="utf-8")
    assert watch_paths(config) == [config]


@pytest.mark.parametrize(
    ("path", "watched"),
    [
        ("plugin.py", True),
        ("bot.toml", True),
        ("bot.sqlite3", False),
        ("bot.sqlite3-wal", False),
        ("__pycache__/plugin.cpython-311.pyc", False),
        ("faq.yaml", False),
    ],
)
def test_only_source_and_config_changes_restart(path: str, watched: bool) -> None:
    assert watch_filter(watchfiles.Change.modified, f"/project/{path}") is watched


PLUGIN = """
import agentbot

@agentbot.hookimpl
def on_visitor_message(text):
    return agentbot.Reply("{version}: " + text)
"""


class Output:
    """Collect a process's output and wake waiters when new text arrives."""

    def __init__(self) -> None:
        self.text = ""
        self._changed = anyio.Event()

    async def drain(self, stream: Any) -> None:
        async for chunk in stream:
            self.text += chunk.decode(errors="replace")
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_for(self, needle: str, *, count: int = 1) -> None:
        while self.text.count(needle) < count:
            await self._changed.wait()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
async def test_the_bot_follows_edits_to_its_plugin(tmp_path: Path) -> None:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config, pages=False)
    control = app.state.control
    sandbox = app.state.sandbox
    plugin = tmp_path / "answer.py"
    plugin.write_text(PLUGIN.format(version="v1"), encoding="utf-8")

    def bot_connections() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = control.connections(side="agent")["connections"]
        return [c for c in found if c["authenticated"]]

    def logged_in(count: int) -> Callable[[], bool]:
        return lambda: len(bot_connections()) >= count and bot_connections()[-1]["open"]

    visitor = control.create_visitor(name="Ada")["visitor"]["id"]

    async def ask(text: str) -> str:
        chat_id = control.visitor_message(visitor, text)["chat"]["id"]

        def answers() -> list[str]:
            entries = control.transcript(chat_id)["entries"]
            return [e["text"] for e in entries if e["kind"] == "message" and e["by"] == "agent"]

        before = len(answers())
        with anyio.fail_after(WAIT_SECONDS):
            await sandbox.wait_until(lambda: len(answers()) > before)
        return answers()[-1]

    output = Output()
    async with running_server(app) as base_url:
        write_bot_toml(
            tmp_path,
            f"""
            url = "{base_url}"
            api_url = "{base_url}{REST_PREFIX}"
            [pacing]
            time_scale = 0.0
            [runtime]
            storage_path = "bot.sqlite3"
            [plugins.answer]
            path = "answer.py"
            """,
        )
        env = {**os.environ, "AGENTBOT_AUTH_TOKEN": sandbox_config.bot.auth_token}
        env["AGENTBOT_API_TOKEN"] = api_token_for(sandbox_config.bot)
        env["AGENTBOT_KEY"] = sandbox_config.account_key
        command = [sys.executable, "-m", "agentbot", "run", "-c", "bot.toml", "--reload"]
        process = await anyio.open_process(command, cwd=tmp_path, env=env, stderr=-1, stdout=-1)
        try:
            async with anyio.create_task_group() as tg:
                assert process.stderr is not None
                tg.start_soon(output.drain, process.stderr)
                with anyio.fail_after(WAIT_SECONDS):
                    await sandbox.wait_until(logged_in(1))
                assert await ask("hi") == "v1: hi"

                plugin.write_text(PLUGIN.format(version="v2"), encoding="utf-8")
                with anyio.fail_after(WAIT_SECONDS):
                    await sandbox.wait_until(logged_in(2))
                assert not bot_connections()[0]["open"]
                assert await ask("again") == "v2: again"

                plugin.write_text("def broken(:\n", encoding="utf-8")
                with anyio.fail_after(WAIT_SECONDS):
                    await output.wait_for("waiting for a change to start it again")
                assert "SyntaxError" in output.text
                plugin.write_text(PLUGIN.format(version="v3"), encoding="utf-8")
                with anyio.fail_after(WAIT_SECONDS):
                    await sandbox.wait_until(logged_in(3))
                assert await ask("fixed?") == "v3: fixed?"

                process.send_signal(signal.SIGTERM)
                with anyio.fail_after(WAIT_SECONDS):
                    returncode = await process.wait()
        except BaseException:
            print(output.text)
            raise
        finally:
            if process.returncode is None:
                process.kill()
            with anyio.CancelScope(shield=True):
                await process.aclose()
    assert returncode == 0, output.text
    assert output.text.count("changed; restarting the bot") == 3
    assert "SIGTERM received" not in output.text  # the supervisor's line says why, once
    assert not any(c["open"] for c in bot_connections())
    assert "bot.sqlite3" not in output.text  # its own database changing restarts nothing


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
@pytest.mark.parametrize("interrupts", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
async def test_sigint_to_the_supervisor_alone_stops_everything_cleanly(
    tmp_path: Path, interrupts: int
) -> None:
    # Ctrl-C reaches only the supervisor (the bot has its own session): it used to wait for
    # a bot that never got the signal (~11 s), and a second Ctrl-C was "Aborted!" and exit 1.
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config, pages=False)
    control = app.state.control
    (tmp_path / "answer.py").write_text(PLUGIN.format(version="v1"), encoding="utf-8")

    def bot_connections() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = control.connections(side="agent")["connections"]
        return [c for c in found if c["authenticated"]]

    output = Output()
    async with running_server(app) as base_url:
        write_bot_toml(
            tmp_path,
            f"""
            url = "{base_url}"
            api_url = "{base_url}{REST_PREFIX}"
            [runtime]
            storage_path = "bot.sqlite3"
            [plugins.answer]
            path = "answer.py"
            """,
        )
        env = {**os.environ, "AGENTBOT_AUTH_TOKEN": sandbox_config.bot.auth_token}
        env["AGENTBOT_API_TOKEN"] = api_token_for(sandbox_config.bot)
        env["AGENTBOT_KEY"] = sandbox_config.account_key
        command = [sys.executable, "-m", "agentbot", "run", "-c", "bot.toml", "--reload"]
        process = await anyio.open_process(command, cwd=tmp_path, env=env, stderr=-1, stdout=-1)
        try:
            async with anyio.create_task_group() as tg:
                assert process.stderr is not None
                tg.start_soon(output.drain, process.stderr)
                with anyio.fail_after(WAIT_SECONDS):
                    await app.state.sandbox.wait_until(
                        lambda: any(c["open"] for c in bot_connections())
                    )
                for _ in range(interrupts):
                    process.send_signal(signal.SIGINT)
                with anyio.fail_after(WAIT_SECONDS):
                    returncode = await process.wait()
                    await output.wait_for("reload: stopped")
        except BaseException:
            print(output.text)
            raise
        finally:
            if process.returncode is None:
                process.kill()
            with anyio.CancelScope(shield=True):
                await process.aclose()
    assert returncode == 0, output.text
    assert "Traceback" not in output.text
    assert "Aborted!" not in output.text
    assert not any(c["open"] for c in bot_connections())
