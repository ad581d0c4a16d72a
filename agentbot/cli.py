"""The ``agentbot`` command: the only place that reads argv and configures logging."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import click

from agentbot.__about__ import __version__
from agentbot.errors import ConfigError


@click.group()
@click.version_option(__version__, prog_name="agentbot")
def main() -> None:
    """Run, test and develop Smartsupp chat bots."""


def _configure_logging(*, verbose: bool) -> None:
    """Log warnings (everything with ``--verbose``) to stderr; stdout is for the person."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _run_until_interrupted(fn: Callable[[], Awaitable[None]]) -> None:
    """Run ``fn`` on asyncio (uvicorn needs it); Ctrl-C stops it cleanly with exit code 0."""
    try:
        anyio.run(fn, backend="asyncio")
    except KeyboardInterrupt:
        click.echo("Stopped.")


_host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
_port_option = click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
_eio_option = click.option(
    "--eio",
    default="3",
    show_default=True,
    type=click.Choice(["3", "4"]),
    help="Engine.IO version the bot uses (3: Smartsupp's socket.io 2.x; 4: socket.io 3+).",
)
_verbose_option = click.option("-v", "--verbose", is_flag=True, help="Log debug details.")


@main.command()
@_host_option
@_port_option
@_eio_option
@_verbose_option
def sandbox(host: str, port: int, eio: str, verbose: bool) -> None:
    """Serve a Smartsupp in a box: chat page, agent console, agent and visitor sockets.

    It prints the URLs and the credentials a bot logs in with. Everything lives in memory and
    is gone when it stops (Ctrl-C).
    """
    from agentbot.sandbox import SandboxConfig, serve
    from agentbot.sandbox.site import SiteUrls, build_site, describe_site

    _configure_logging(verbose=verbose)
    config = SandboxConfig()
    app = build_site(config)

    def ready(base_url: str) -> None:
        urls = SiteUrls.from_base_url(base_url, eio=int(eio))
        click.echo(f"agentbot sandbox: a Smartsupp in a box at {urls.base} (listening on {host})")
        click.echo("")
        for line in describe_site(config, urls, run_command="run" in main.commands):
            click.echo(line)
        click.echo("")
        click.echo("Ctrl-C stops.")

    async def run() -> None:
        await serve(app, host=host, port=port, on_ready=ready)

    _run_until_interrupted(run)


@main.command()
@_host_option
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@_eio_option
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A scenario TOML file to play instead of the packaged demo.",
)
@click.option(
    "--once", is_flag=True, help="Exit after the scripted conversation instead of staying up."
)
@_verbose_option
def demo(
    host: str, port: int, eio: str, scenario_path: Path | None, once: bool, verbose: bool
) -> None:
    """Run a sandbox Smartsupp, a bot with the built-in plugins and a scripted visitor.

    The scripted conversation is printed live with timings; then the demo stays up and
    prints the chat page's URL so you can chat with the bot yourself (Ctrl-C stops).
    """
    from agentbot.demo import run_demo
    from agentbot.sandbox.scenario import load_packaged_scenario, load_scenario

    _configure_logging(verbose=verbose)
    try:
        scenario = load_scenario(scenario_path) if scenario_path else load_packaged_scenario()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc

    async def run() -> None:
        await run_demo(
            echo=click.echo,
            scenario=scenario,
            host=host,
            port=port,
            eio=int(eio),
            stay_up=not once,
        )

    _run_until_interrupted(run)
