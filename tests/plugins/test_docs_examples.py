"""Every bot.toml example in docs/plugins.md is valid for the plugins' config classes.

Checked the way a reader would: the example pasted into a bot.toml (the account's settings
in the environment) and ``agentbot check --no-login`` run on it, which loads the plugins
from their entry points and runs each plugin's start-up validation.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentbot.cli import main

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "plugins.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
EXAMPLES = [block for block in BLOCKS if "[plugins." in block]
ACCOUNT = {"AGENTBOT_AGENT_ID": "bot-1", "AGENTBOT_KEY": "key", "AGENTBOT_AUTH_TOKEN": "token"}


def test_the_doc_has_an_example_per_plugin() -> None:
    named = {name for block in EXAMPLES for name in re.findall(r"\[plugins\.(\w+)", block)}
    assert named >= {"greeter", "faq", "after_hours", "handoff"}


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: re.findall(r"\[(.*?)\]", b)[0])
def test_example_config_is_valid(
    block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = block.replace("…", "x")
    sections: dict[str, Any] = tomllib.loads(text)["plugins"]
    if "faq" in sections:
        faq = tmp_path / "faq.toml"
        faq.write_text('[[entry]]\nquestion = "q"\nanswer = "a"\n', encoding="utf-8")
        text = re.sub(r'(?m)^file = ".*"$', f"file = {str(faq)!r}", text)
    config = tmp_path / "bot.toml"
    config.write_text(text, encoding="utf-8")
    for variable, value in ACCOUNT.items():
        monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["check", "--no-login", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("ok")
    for name in sections:
        assert name in result.output
