"""examples/deploy: the systemd unit, the Dockerfile and the production bot.toml hold together.

No service manager or container engine runs here; the files are checked for what the
deployment guide promises: the bot starts with the shipped config, stops on SIGTERM with
time to spare, runs as an unprivileged user, and takes its secrets from the environment.
Where ``systemd-analyze`` exists, it verifies the unit's directives too.
"""

from __future__ import annotations

import configparser
import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentbot.cli import main
from agentbot.errors import ConfigError
from agentbot.runtime.config import ENV_OVERRIDES, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = REPO_ROOT / "examples" / "deploy"
RUN_COMMAND = ["agentbot", "run", "-c", "/etc/agentbot/bot.toml", "--log-format", "json"]
SECRETS = {
    "AGENTBOT_KEY": "k-for-the-test",
    "AGENTBOT_AUTH_TOKEN": "t-for-the-test",
    "AGENTBOT_API_TOKEN": "a-for-the-test",
}


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "agentbot.service", encoding="utf-8")
    return parser


def test_the_production_bot_toml_passes_agentbot_check() -> None:
    result = CliRunner().invoke(
        main, ["check", "--no-login", "-c", str(DEPLOY / "bot.toml")], env=SECRETS
    )
    assert result.exit_code == 0, result.output
    assert "greeter" in result.output
    config = load_config(DEPLOY / "bot.toml", env=SECRETS)
    assert config.smartsupp.key == SECRETS["AGENTBOT_KEY"]
    # No secret in the file: without the environment it is incomplete.
    with pytest.raises(ConfigError, match="key: missing required key"):
        load_config(DEPLOY / "bot.toml", env={})


def test_the_env_file_holds_only_agentbot_variables_without_real_values() -> None:
    lines = (DEPLOY / "agentbot.env.example").read_text(encoding="utf-8").splitlines()
    pairs = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(pairs) == set(SECRETS)
    assert set(pairs) <= set(ENV_OVERRIDES)
    assert all(value.startswith("replace-with-") for value in pairs.values())


def test_the_systemd_unit_runs_the_bot_and_stops_it_gracefully() -> None:
    service = unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert Path(command[0]).name == "agentbot"
    assert command[1:] == RUN_COMMAND[1:]
    assert service["User"] not in ("", "root")
    assert service["EnvironmentFile"] == "/etc/agentbot/agentbot.env"
    assert service["KillSignal"] == "SIGTERM"
    grace = load_config(DEPLOY / "bot.toml", env=SECRETS).runtime.shutdown_grace_seconds
    assert float(service["TimeoutStopSec"]) > grace + 5
    assert service["Restart"] == "on-failure"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_every_directive(tmp_path: Path) -> None:
    text = (DEPLOY / "agentbot.service").read_text(encoding="utf-8")
    # Point ExecStart at a binary that exists here; everything else is verified as written.
    text = text.replace("ExecStart=/opt/agentbot/venv/bin/agentbot", "ExecStart=/bin/true")
    (tmp_path / "agentbot.service").write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "agentbot.service")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr, result.stderr


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_the_dockerfile_runs_the_bot_unprivileged_from_the_shipped_config() -> None:
    instructions = dockerfile()
    final_stage = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    keywords = dict(final_stage)
    assert json.loads(keywords["CMD"]) == RUN_COMMAND
    assert keywords["USER"] not in ("root", "0")
    assert keywords["STOPSIGNAL"] == "SIGTERM"
    # Every file copied from the build context exists (the build runs from the repo root).
    for keyword, rest in instructions:
        if keyword == "COPY" and not rest.startswith("--from"):
            source = rest.split()[0]
            assert (REPO_ROOT / source).exists(), source
    assert "/etc/agentbot/bot.toml" in keywords["COPY"]


def test_the_build_context_leaves_out_history_caches_and_node_modules() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (".git", "tests/interop/node_modules", "**/__pycache__", "*.sqlite3"):
        assert pattern in ignored
