"""The ``agentbot`` command: the only place that reads argv and configures logging."""

from __future__ import annotations

import click

from agentbot.__about__ import __version__


@click.group()
@click.version_option(__version__, prog_name="agentbot")
def main() -> None:
    """Run, test and develop Smartsupp chat bots."""


@main.command()
def demo() -> None:
    """Run a sandbox Smartsupp, a bot with the built-in plugins and a scripted visitor."""
    click.echo("agentbot demo: the sandbox and the bot runtime are not built yet.")
    raise SystemExit(1)
