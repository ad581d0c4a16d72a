"""``register_commands(cli, tools)``: installed plugins add ``agentbot`` commands (llm's model).

Each test installs a plugin the way pip would: a module plus a ``.dist-info`` folder whose
entry_points.txt names it in the ``agentbot`` group, on ``sys.path``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agentbot.cli import main
from agentbot.runtime.commands import add_plugin_commands

PLUGIN = '''
import attrs
import click

import agentbot


@attrs.frozen(kw_only=True)
class HelloConfig:
    greeting: str = "hi"


@agentbot.hookimpl
def register_commands(cli, tools):
    @cli.command()
    @tools.config_option()
    def hello(config_path):
        """Print the greeting from [plugins.hello]."""
        click.echo(tools.plugin_config(config_path, "hello", HelloConfig).greeting)
'''


RAISING = """
import agentbot


@agentbot.hookimpl
def register_commands(cli):
    1 / 0
"""


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    (tmp_path / f"{name}_mod.py").write_text(textwrap.dedent(source), encoding="utf-8")
    dist = tmp_path / f"{name}_dist-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}-dist\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(f"[agentbot]\n{name} = {name}_mod\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


def fresh_cli() -> click.Group:
    """A new ``agentbot`` group (same class as the real one) that has asked no plugin yet."""
    return type(main)(name="agentbot")


def test_hook_register_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed plugin adds a command that reads its own [plugins.NAME] section."""
    install(tmp_path, monkeypatch, "hello", PLUGIN)
    config = tmp_path / "bot.toml"
    # No [smartsupp] credentials: a plugin's command that reads options needs none.
    config.write_text('[plugins.hello]\ngreeting = "ahoj"\n', encoding="utf-8")
    result = CliRunner().invoke(fresh_cli(), ["hello", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output == "ahoj\n"


def test_the_faq_commands_come_from_the_faq_plugin() -> None:
    cli = fresh_cli()
    assert "faq" not in cli.commands  # cli.py itself defines no faq command
    assert "faq" in cli.list_commands(click.Context(cli))
    faq = cli.commands["faq"]
    assert isinstance(faq, click.Group)
    assert sorted(faq.commands) == ["eval", "gaps", "test"]
    assert faq.callback is not None
    assert faq.callback.__module__ == "agentbot_plugins.faq.commands"


def test_a_broken_plugin_is_one_warning_and_the_others_still_add_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, "hello", PLUGIN)
    for folder, name, source in [
        ("b", "broken", "raise RuntimeError('no such thing')\n"),
        ("c", "raising", RAISING),
    ]:
        (tmp_path / folder).mkdir()
        install(tmp_path / folder, monkeypatch, name, source)
    warnings: list[str] = []
    cli = click.Group(name="agentbot")
    add_plugin_commands(cli, warn=warnings.append)
    assert {"hello", "faq"} <= set(cli.commands)
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("plugin 'broken' (broken_mod): no commands: no such thing")
    assert warnings[1].startswith("plugin 'raising' (raising_mod): no commands:")


def test_an_unknown_command_is_still_clicks_usage_error() -> None:
    result = CliRunner().invoke(fresh_cli(), ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.output
