"""``agentbot sandbox`` and ``agentbot demo`` start, serve, print what they promise, and stop.

The commands run as real subprocesses on ephemeral ports (``--port 0``); every wait on them is
bounded, and Ctrl-C is a real SIGINT.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentbot.cli import main

START_SECONDS = 30.0
STOP_SECONDS = 15.0
AGENTBOT = [sys.executable, "-c", "from agentbot.cli import main; main()"]


class Running:
    """A command in a subprocess whose stdout lines are read by a thread, with bounded waits."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [*AGENTBOT, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # Drain stderr too, so a chatty child can never block on a full pipe.
        self._error_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._error_reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip("\n"))

    def wait_for_line(self, pattern: str, *, timeout: float = START_SECONDS) -> re.Match[str]:
        """Return the first new line matching ``pattern``; fail if the output ends first."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} within {timeout}s: {self.lines}")
            if line is None:
                pytest.fail(f"output ended before {pattern!r}: {self.lines}\n{self.errors}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def interrupt(self) -> int:
        """Send Ctrl-C (SIGINT) and return the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.wait()

    def wait(self, timeout: float = STOP_SECONDS) -> int:
        """Wait for the exit; collect the rest of the output."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        self._error_reader.join(timeout=timeout)
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return code

    def close(self) -> None:
        """Kill the command if it still runs, and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.wait()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def run() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        running.close()


def start(run: list[Running], *args: str) -> Running:
    running = Running(list(args))
    run.append(running)
    return running


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


def test_sandbox_prints_urls_and_credentials_serves_the_pages_and_stops_on_ctrl_c(
    run: list[Running],
) -> None:
    sandbox = start(run, "sandbox", "--port", "0", "--eio", "4")
    base = sandbox.wait_for_line(r"a Smartsupp in a box at (http://127\.0\.0\.1:\d+)").group(1)
    sandbox.wait_for_line(r"Ctrl-C stops\.")
    text = "\n".join(sandbox.lines)
    assert f"Chat page (visitor)  {base}/" in text
    assert f"Agent console        {base}/console" in text
    socket_url = base.replace("http://", "ws://") + "/socket/?EIO=4&transport=websocket"
    assert f"Socket URL           {socket_url}" in text
    assert 'agent_id = "bot-1"' in text
    assert 'key = "sandbox-key"' in text
    assert 'auth_token = "bot-token"' in text
    assert "eio = 4" in text

    status, page = http_get(f"{base}/")
    assert status == 200
    assert "smartsupp-visitor.js" in page
    status, console = http_get(f"{base}/console")
    assert status == 200
    assert "Agent console" in console
    status, body = http_get(f"{base}/api/config")
    assert json.loads(body)["accountKey"] == "sandbox-key"
    status, session = http_get(f"{base}/console/session")
    assert json.loads(session)["agentId"] == "human-1"
    status, script = http_get(f"{base}/static/vendor/smartsupp-visitor.js")
    assert "createVisitorClient" in script

    assert sandbox.interrupt() == 0
    assert sandbox.lines[-1] == "Stopped."


def test_demo_plays_the_scenario_with_timings_and_exits_with_once(
    run: list[Running], tmp_path: Path
) -> None:
    scenario = tmp_path / "quick.toml"
    scenario.write_text(
        'name = "quick"\n[visitor]\nname = "Eve"\n'
        '[[steps]]\nsay = "Hi"\n[[steps]]\nwait_for_reply = 20\n'
        '[[steps]]\ntyping = true\n[[steps]]\nsay = "Bye"\n',
        encoding="utf-8",
    )
    demo = start(run, "demo", "--once", "--port", "0", "--scenario", str(scenario))
    demo.wait_for_line(r"^agentbot demo: a sandbox Smartsupp at http://127\.0\.0\.1:\d+$")
    demo.wait_for_line(r"^Scripted visitor: quick$")
    demo.wait_for_line(r"^\+\d+\.\ds Eve: Hi$")
    demo.wait_for_line(r"^\+\d+\.\ds Eve is typing…$")
    demo.wait_for_line(r"^\+\d+\.\ds Eve: Bye$")
    done = demo.wait_for_line(r"^Scripted conversation done: (\d+) repl(?:y|ies) received")
    assert demo.wait() == 0
    text = "\n".join(demo.lines)
    assert "The bot is logged in as agent bot-1 (greeter, faq, handoff)." in text
    bot_lines = [line for line in demo.lines if re.match(r"^\+\d+\.\ds bot: \S", line)]
    assert len(bot_lines) == 1, text  # the greeter's answer to "Hi", within the wait
    assert done.group(0) == "Scripted conversation done: 1 reply received"
    assert "0 unanswered." in done.string
    assert "nobody will answer" not in text


def test_demo_stays_up_for_a_person_and_stops_on_ctrl_c(run: list[Running], tmp_path: Path) -> None:
    scenario = tmp_path / "one.toml"
    scenario.write_text('[[steps]]\nsay = "Hello"\n', encoding="utf-8")
    demo = start(run, "demo", "--port", "0", "--scenario", str(scenario))
    demo.wait_for_line(r"^Now chat with the bot yourself:$")
    page = demo.wait_for_line(r"Chat page \(visitor\)\s+(http://127\.0\.0\.1:\d+/)").group(1)
    demo.wait_for_line(r"Ctrl-C stops\.")
    status, _ = http_get(page)
    assert status == 200
    assert demo.interrupt() == 0
    assert demo.lines[-1] == "Stopped."


def test_demo_names_the_file_and_step_of_a_bad_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[[steps]]\nsay = "Hi"\n[[steps]]\nwait = "soon"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--once", "--scenario", str(scenario)])
    assert result.exit_code == 1
    assert "bad.toml, step 2, key 'wait'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["sandbox", "demo"])
def test_help_lists_the_options(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--eio"):
        assert option in result.output


@pytest.mark.parametrize("command", [["sandbox"], ["demo", "--once"]], ids=["sandbox", "demo"])
def test_a_busy_port_is_one_line_suggesting_port_0(command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*AGENTBOT, *command, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=START_SECONDS,
            check=False,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: the address is already in use; "
        "pass another --port, or --port 0 to pick a free one"
    ]
