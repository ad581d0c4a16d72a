"""`agentbot run/check/plugins` in-process, log formatting, and shutdown on a signal."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from agentbot import Reply, hookimpl
from agentbot.cli import main
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.launcher import run_until_signalled
from agentbot.runtime.logs import Redactor, formatter
from agentbot.runtime.storage import MEMORY, Storage

from .conftest import make_config
from .fakes import FakeClient, visitor_message

KEY = "d57ad424c173ea4541bef97b766c168a83042788"
TOKEN = "6d267d6cd580a4c01afbb2f0b565ab7d"


def write_bot(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "hello.py").write_text(
        textwrap.dedent(
            """
            import agentbot

            @agentbot.hookimpl
            def on_visitor_message(text):
                return agentbot.Reply("hello!")
            """
        ),
        encoding="utf-8",
    )
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[smartsupp]\nagent_id = "bot-1"\nkey = "{KEY}"\nauth_token = "{TOKEN}"\n'
        f'[plugins.hello]\npath = "hello.py"\n{extra}',
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"AGENTBOT_KEY": ""})
    return result.exit_code, result.output


def test_check_without_login_prints_what_would_run(tmp_path: Path) -> None:
    code, output = invoke("check", "-c", str(write_bot(tmp_path)), "--no-login")
    assert code == 0, output
    assert "plugins (1):" in output
    assert "1. hello (file " in output
    assert "hooks: on_visitor_message" in output
    assert "login: skipped" in output
    assert KEY not in output
    assert TOKEN not in output


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[pacing]\ntime_scael = 0.1\n",
            "[pacing] time_scael: unknown key (did you mean 'time_scale'?)",
        ),
        ("[plugins.helo]\n", "no installed plugin named 'helo'"),
        ("[runtime]\nhuman_first = 'yes'\n", "[runtime] human_first: expected a boolean"),
    ],
)
def test_config_mistakes_are_one_line_and_exit_1(tmp_path: Path, extra: str, expected: str) -> None:
    code, output = invoke("check", "-c", str(write_bot(tmp_path, extra)), "--no-login")
    assert code == 1
    assert expected in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_check_runs_each_plugins_on_check_and_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "picky.py").write_text(
        textwrap.dedent(
            """
            import agentbot

            @agentbot.hookimpl
            async def on_check(bot):
                raise agentbot.ConfigError("templates.txt is missing")
            """
        ),
        encoding="utf-8",
    )
    extra = '[plugins.picky]\npath = "picky.py"\n'
    code, output = invoke("check", "-c", str(write_bot(tmp_path, extra)), "--no-login")
    assert code == 1
    assert output.strip().splitlines()[-1] == "Error: plugin picky: templates.txt is missing"
    assert "Traceback" not in output


def test_check_says_which_plugins_checked_themselves(tmp_path: Path) -> None:
    (tmp_path / "faq.toml").write_text(
        '[[entry]]\nid = "hours"\nquestion = "When are you open?"\nanswer = "9 to 5."\n',
        encoding="utf-8",
    )
    extra = '[plugins.faq]\nfile = "faq.toml"\n'
    code, output = invoke("check", "-c", str(write_bot(tmp_path, extra)), "--no-login")
    assert code == 0, output
    assert "plugin checks: ok (faq)" in output


@pytest.mark.parametrize(
    ("faq_file", "expected"),
    [
        (None, "missing.toml"),
        ("[[entry]]\nid = 'x'\n", "faq.toml"),
    ],
    ids=["missing", "malformed"],
)
def test_check_fails_on_a_missing_or_malformed_faq_file(
    tmp_path: Path, faq_file: str | None, expected: str
) -> None:
    # Before on_check, check said ok here while `run` then answered nothing.
    if faq_file is not None:
        (tmp_path / "faq.toml").write_text(faq_file, encoding="utf-8")
    extra = f'[plugins.faq]\nfile = "{expected}"\n'
    code, output = invoke("check", "-c", str(write_bot(tmp_path, extra)), "--no-login")
    assert code == 1, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("Error: plugin faq: ")
    assert expected in last
    assert "Traceback" not in output


def test_a_failed_login_names_the_settings_and_variables_to_check() -> None:
    from agentbot.cli import _one_line
    from agentbot.errors import AuthFailure

    line = _one_line(AuthFailure("Auth token is invalid", type="auth_failure"))
    assert line.startswith("login failed: Auth token is invalid")
    for name in ("agent_id", "key", "auth_token", "AGENTBOT_AGENT_ID", "AGENTBOT_KEY"):
        assert name in line
    assert "AGENTBOT_AUTH_TOKEN" in line
    assert "\n" not in line


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    code, output = invoke("run", "-c", str(tmp_path / "nope.toml"))
    assert code == 1
    assert output.strip() == f"Error: {tmp_path / 'nope.toml'}: no such file"


def test_plugins_command_lists_every_installed_plugin_with_source_and_hooks() -> None:
    import importlib.metadata

    code, output = invoke("plugins")
    assert code == 0, output
    lines = output.splitlines()
    entry_points = sorted(importlib.metadata.entry_points(group="agentbot"), key=lambda e: e.name)
    assert {"faq", "greeter", "after_hours", "handoff"} <= {e.name for e in entry_points}
    headers = [line for line in lines if not line.startswith(" ")][:-1]
    assert len(headers) == len(entry_points)  # one entry each, nothing else
    for entry_point in entry_points:
        assert entry_point.dist is not None
        header = f"{entry_point.name}: {entry_point.value} [{entry_point.dist.name}]"
        hooks_line = lines[lines.index(header) + 1]
        assert hooks_line.startswith("  hooks: ")
        plugin = entry_point.load()
        expected = {  # what carries the agentbot hookimpl marker, found independently
            name for name in dir(plugin) if hasattr(getattr(plugin, name), "agentbot_impl")
        }
        assert set(hooks_line.removeprefix("  hooks: ").split(", ")) == expected, header
    assert "cannot load" not in output
    assert "not agentbot hooks" not in output
    assert lines[-1] == "Enable one with a [plugins.NAME] section in bot.toml."


def test_redactor_masks_every_secret_longest_first() -> None:
    redact = Redactor([KEY, TOKEN, None, "ab"])  # too-short values are not secrets
    assert redact(f"key={KEY} token={TOKEN} ab") == "key=*** token=*** ab"


def test_text_and_json_formatters_redact_messages_and_tracebacks() -> None:
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "agentbot.x", logging.ERROR, __file__, 1, "login %s", (KEY,), exc_info
    )
    record.chat_id = "c1"
    text = formatter("text", secrets=[KEY]).format(record)
    assert KEY not in text
    assert "login ***" in text
    assert "ValueError: bad key ***" in text
    line = formatter("json", secrets=[KEY]).format(record)
    entry = json.loads(line)
    assert entry["message"] == "login ***"
    assert entry["level"] == "error"
    assert entry["logger"] == "agentbot.x"
    assert entry["chat_id"] == "c1"
    assert "bad key ***" in entry["exception"]
    assert KEY not in line


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}")


async def test_sigterm_mid_typing_sends_typing_false_and_returns() -> None:
    client = FakeClient()
    clock = VirtualClock()
    with Storage(MEMORY) as storage:
        bot = Bot(
            make_config(),
            plugins=[("echo", Echo())],
            connect=client.factory(),
            clock=clock,
            storage=storage,
            entry_points={},
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_until_signalled, bot)
            await client.feed(visitor_message("c1", "hi"))
            await clock.wait_sleepers(1)  # typing: the signal receiver is installed by now
            os.kill(os.getpid(), signal.SIGTERM)
    assert client.calls == [("typing", "c1", True), ("typing", "c1", False)]
    assert client.closed


def test_run_without_any_config_says_to_pass_c_or_create_bot_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no bot.toml here
    result = CliRunner().invoke(main, ["run"], env={"AGENTBOT_AGENT_ID": None})
    assert result.exit_code == 1
    assert result.output.startswith("Error: no bot.toml in this folder: pass -c FILE or create")
    assert "agent_id" in result.output  # and still what is missing
    assert len(result.output.strip().splitlines()) == 1


def test_the_final_error_line_follows_log_format_json(tmp_path: Path) -> None:
    code, output = invoke("run", "--log-format", "json", "-c", str(tmp_path / "nope.toml"))
    assert code == 1
    (line,) = output.strip().splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"]) == ("error", "agentbot")
    assert entry["message"] == f"{tmp_path / 'nope.toml'}: no such file"


@pytest.mark.parametrize("verbose", [False, True])
def test_httpx_logs_no_line_per_request_unless_verbose(verbose: bool) -> None:
    from agentbot.cli import _configure_bot_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _configure_bot_logging("text", verbose=verbose, secrets=())
        for name in ("httpx", "httpcore"):
            assert logging.getLogger(name).isEnabledFor(logging.INFO) is verbose
        assert logging.getLogger("agentbot.runtime").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize("args", [[], ["faq"]])
def test_dash_h_is_help_and_no_summary_is_cut_off(args: list[str]) -> None:
    code, output = invoke(*args, "-h")
    assert code == 0, output
    assert "-h, --help" in output
    commands = " ".join(output.split("Commands:")[1].split())  # unwrapped
    assert "..." not in commands
    assert "print what would run." in commands or "what the bot would do." in commands


def test_a_relative_faq_file_is_next_to_bot_toml_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/plugins.md: `run -c elsewhere/bot.toml` reads elsewhere/faq.toml (bot.config_dir).
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "faq.toml").write_text(
        '[[entry]]\nquestion = "When are you open?"\nanswer = "9 to 5."\n', encoding="utf-8"
    )
    bot_toml = write_bot(elsewhere, '[plugins.faq]\nfile = "faq.toml"\n')
    monkeypatch.chdir(tmp_path)  # no faq.toml here
    code, output = invoke("check", "-c", str(bot_toml.relative_to(tmp_path)), "--no-login")
    assert code == 0, output
    assert output.strip().endswith("ok")
