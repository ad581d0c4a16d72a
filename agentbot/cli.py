"""The ``agentbot`` command: the only place that reads argv and configures logging."""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from agentbot.__about__ import __version__
from agentbot.errors import AgentbotError, ConfigError

if TYPE_CHECKING:
    from agentbot.runtime.config import BotConfig


class _AgentbotGroup(click.Group):
    """The built-in commands plus those the installed plugins add (``register_commands``).

    Plugins are asked only when a command is not built in or the commands are listed, so
    ``agentbot run`` imports no plugin its bot.toml does not enable, and a broken plugin
    cannot break the built-in commands.
    """

    _plugin_commands_added = False

    def _add_plugin_commands(self) -> None:
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from agentbot.runtime.commands import add_plugin_commands

        add_plugin_commands(self, warn=lambda line: click.echo(f"agentbot: {line}", err=True))
        _whole_summaries(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and not self._plugin_commands_added:
            self._add_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)


def _whole_summaries(group: click.Group) -> None:
    """Give every command under ``group`` its whole first sentence as its summary.

    Click cuts a summary it derives at ~45 characters ("...") but prints a ``short_help``
    as it is, wrapped; plugin commands (``agentbot faq eval``) get the same treatment.
    """
    for command in group.commands.values():
        if command.short_help is None and command.help:
            command.short_help = command.get_short_help_str(limit=_NO_SHORT_HELP_LIMIT)
        if isinstance(command, click.Group):
            _whole_summaries(command)


_NO_SHORT_HELP_LIMIT = 1_000
"""Longer than any first sentence."""

_CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
"""``-h`` as well as ``--help``, for every command (subcommands inherit it)."""


@click.group(cls=_AgentbotGroup, context_settings=_CONTEXT_SETTINGS)
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


def _run_until_interrupted(fn: Callable[[], Awaitable[None]], *, host: str, port: int) -> None:
    """Run ``fn`` on asyncio (uvicorn needs it); Ctrl-C stops it cleanly with exit code 0.

    A port that is taken is one line suggesting another, not a traceback.
    """
    try:
        anyio.run(fn, backend="asyncio")
    except KeyboardInterrupt:
        click.echo("Stopped.")
    except BaseException as exc:
        if _address_in_use(exc) is None:
            raise
        raise click.ClickException(
            f"cannot listen on {host}:{port}: the address is already in use; "
            "pass another --port, or --port 0 to pick a free one"
        ) from None


def _address_in_use(exc: BaseException) -> OSError | None:
    """Find "address already in use" inside ``exc`` (task groups wrap it in groups)."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _address_in_use(inner)
            if found is not None:
                return found
    return None


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

    _run_until_interrupted(run, host=host, port=port)


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

    _run_until_interrupted(run, host=host, port=port)


# -- the bot: run, check, plugins (the work lives in agentbot.runtime.launcher) -------------

_config_option = click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    default=None,
    help="The bot.toml to read (default: ./bot.toml if present, else AGENTBOT_* variables only).",
)


def _load_bot_config(config_path: str | None) -> BotConfig:
    """Read bot.toml (or the environment); a problem is one line on stderr and exit 1."""
    from agentbot.runtime.commands import find_config
    from agentbot.runtime.config import load_config

    found = find_config(config_path)
    try:
        return load_config(found)
    except AgentbotError as exc:
        if found is None:  # no file at all: say how to give one before what is missing
            raise click.ClickException(
                f"no bot.toml in this folder: pass -c FILE or create bot.toml ({exc})"
            ) from None
        raise click.ClickException(str(exc)) from None


def _configure_bot_logging(log_format: str, *, verbose: bool, secrets: tuple[str, ...]) -> None:
    """INFO lines (DEBUG with -v) on stderr, as text or JSON, with the secrets redacted."""
    from agentbot.runtime.logs import formatter, install_redaction

    redactor = install_redaction(secrets)  # every record, any logger or handler (httpx too)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter("json" if log_format == "json" else "text", redactor=redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs every request at INFO: one line per connect and REST call is noise, not news.
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


_CHATTY_LOGGERS = ("httpx", "httpcore")
"""Libraries whose INFO lines are per request; shown only with ``--verbose``."""


class _JsonErrorLine(click.ClickException):
    """The final error of ``run --log-format json``: one JSON log line, like the others."""

    def show(self, file: Any = None) -> None:
        from agentbot.runtime.logs import formatter

        record = logging.LogRecord("agentbot", logging.ERROR, __file__, 0, self.message, (), None)
        click.echo(formatter("json").format(record), file=file, err=file is None)


def _redact_plugin_secrets(plugins: Iterable[Any]) -> None:
    """Add the plugin options declared secret (known once configs are validated)."""
    from agentbot.runtime.logs import install_redaction, secret_values

    install_redaction(value for plugin in plugins for value in secret_values(plugin.config))


def _leaf_error(exc: BaseException) -> AgentbotError | None:
    """Find our error inside an exception group (anyio wraps what task groups raise)."""
    if isinstance(exc, AgentbotError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _leaf_error(inner)
            if found is not None:
                return found
    return None


LOGIN_HINT = (
    "check agent_id, key and auth_token in [smartsupp] of bot.toml, and the "
    "AGENTBOT_AGENT_ID, AGENTBOT_KEY and AGENTBOT_AUTH_TOKEN variables that override them"
)
"""What a failed login says to check: the settings and the environment variables it reads."""


def _one_line(exc: AgentbotError) -> str:
    from agentbot.errors import AuthFailure, ConnectionLost

    if isinstance(exc, AuthFailure):
        return f"login failed: {exc}; {LOGIN_HINT}"
    if isinstance(exc, ConnectionLost):
        return f"cannot reach the server: {exc}"
    return str(exc)


def _run_bot_command(fn: Callable[[], Awaitable[None]]) -> None:
    """Run ``fn``; any agentbot error becomes one line on stderr and exit code 1."""
    try:
        anyio.run(fn)
    except BaseException as exc:
        found = _leaf_error(exc)
        if found is None:
            raise
        raise click.ClickException(_one_line(found)) from None


@main.command()
@click.option(
    "-c",
    "--config",
    "config_paths",
    metavar="FILE|DIR",
    multiple=True,
    help="The bot.toml to read (default: ./bot.toml if present, else AGENTBOT_* variables "
    "only). Repeat it, or name a folder (its *.toml files), to run several bots in one process.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: readable lines; json: one JSON object per line.",
)
@click.option(
    "--reload",
    is_flag=True,
    help="For development: restart the bot when a plugin file or bot.toml changes.",
)
@click.option("--supervised", is_flag=True, hidden=True, help="Started by `run --reload`.")
@_verbose_option
def run(
    config_paths: tuple[str, ...], log_format: str, verbose: bool, reload: bool, supervised: bool
) -> None:
    """Run the bot: log in, answer visitors through the plugins, stop cleanly on Ctrl-C/SIGTERM."""
    if len(config_paths) > 1 or any(Path(p).is_dir() for p in config_paths):
        if reload:
            raise click.ClickException("--reload runs one bot; name one bot file with -c")
        _run_fleet(config_paths, log_format=log_format, verbose=verbose)
        return
    config_path = config_paths[0] if config_paths else None
    if reload:
        _run_with_reload(config_path, log_format=log_format, verbose=verbose)
        return
    try:
        _run(config_path, verbose=verbose, log_format=log_format, supervised=supervised)
    except click.ClickException as exc:
        if log_format == "json":
            raise _JsonErrorLine(exc.message) from None
        raise


def _run(config_path: str | None, *, verbose: bool, log_format: str, supervised: bool) -> None:
    """``agentbot run`` without ``--reload``: every failure is a ``ClickException``."""
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.launcher import config_secrets, run_until_signalled, tune_gc

    config = _load_bot_config(config_path)
    _configure_bot_logging(log_format, verbose=verbose, secrets=config_secrets(config))
    bot = Bot(config)
    try:
        plugins = bot.prepare()
    except AgentbotError as exc:
        raise click.ClickException(_one_line(exc)) from None
    _redact_plugin_secrets(plugins)
    tune_gc()  # after plugins loaded: they are frozen out of the collector's sight too

    async def main_task() -> None:
        from agentbot.runtime.ops_server import operations_endpoint

        listen, name = config.server.listen, config.smartsupp.agent_id
        async with operations_endpoint(bot, listen=listen, name=name):
            await run_until_signalled(bot, supervised=supervised)

    _run_bot_command(main_task)
    if bot.closed_reason in ("logout", "auth_failure"):
        raise click.ClickException(f"the server ended the session ({bot.closed_reason})")


def _run_fleet(config_paths: tuple[str, ...], *, log_format: str, verbose: bool) -> None:
    """Several bots in this process (agentbot.runtime.fleet); each logs with its name."""
    from agentbot.runtime.fleet import Fleet, load_fleet, run_fleet_until_signalled
    from agentbot.runtime.launcher import config_secrets, tune_gc
    from agentbot.runtime.logs import BotField

    try:
        members = load_fleet(config_paths)
        fleet = Fleet(members)
        fleet.listen  # noqa: B018 - the bots must agree on [server] listen before starting
    except AgentbotError as exc:
        raise click.ClickException(_one_line(exc)) from None
    secrets = tuple(s for m in members for s in config_secrets(m.config))
    _configure_bot_logging(log_format, verbose=verbose, secrets=secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(BotField())
    tune_gc()
    _run_bot_command(lambda: run_fleet_until_signalled(fleet))


def _run_with_reload(config_path: str | None, *, log_format: str, verbose: bool) -> None:
    """Supervise ``agentbot run`` in a child process, restarting it on changes (reloader.py)."""
    import os

    from agentbot.reloader import run_with_reload

    if config_path is None and os.path.isfile("bot.toml"):
        config_path = "bot.toml"
    path = Path(config_path).resolve() if config_path is not None else None
    child_args = ["--log-format", log_format, *(["-c", str(path)] if path else [])]
    if verbose:
        child_args.append("--verbose")

    def echo(line: str) -> None:
        click.echo(line, err=True)

    async def supervise() -> None:
        await run_with_reload(config_path=path, child_args=child_args, echo=echo)

    # A Ctrl-C before the supervisor's own handlers are installed is still a clean stop.
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(supervise)
    echo("reload: stopped")


@main.command()
@_config_option
@click.option("--no-login", is_flag=True, help="Check config and plugins only; do not connect.")
@click.option("--live", is_flag=True, help="Try each transport against the real account.")
@click.option("--chat", "chat_id", default=None, help="With --live: a TEST chat to write into.")
@_verbose_option
def check(
    config_path: str | None, no_login: bool, live: bool, chat_id: str | None, verbose: bool
) -> None:
    """Validate bot.toml, load the plugins, try the login, and print what would run."""
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.launcher import check_bot, config_secrets
    from agentbot.runtime.storage import MEMORY, Storage

    config = _load_bot_config(config_path)
    _configure_bot_logging("text", verbose=verbose, secrets=config_secrets(config))
    if not verbose:
        # The report and the one error line say it all; log lines would repeat them.
        logging.getLogger().setLevel(logging.CRITICAL + 1)
    if live:
        from agentbot.live_check import format_table, live_check

        rows = anyio.run(lambda: live_check(config.smartsupp, chat_id=chat_id))
        click.echo(format_table(rows))
        sys.exit(1 if any(row.result == "FAIL" for row in rows) else 0)
    with Storage(MEMORY) as storage:  # checking must not create the bot's database
        bot = Bot(config, storage=storage)

        async def main_task() -> None:
            await check_bot(bot, login=not no_login, echo=click.echo)

        _run_bot_command(main_task)
    click.echo("ok")


@main.command()
@_config_option
@click.option("-o", "--output", required=True, metavar="FILE", help="Where to write (JSON lines).")
@click.option("--seconds", default=60.0, show_default=True, help="How long to record.")
@click.option("--no-mask-texts", is_flag=True, help="Keep message texts (secrets stay masked).")
def record(config_path: str | None, output: str, seconds: float, no_mask_texts: bool) -> None:
    """Log in and write a redacted wire transcript (for bug reports and golden tests)."""
    from agentbot.record import record as record_wire

    settings = _load_bot_config(config_path).smartsupp
    count = anyio.run(
        lambda: record_wire(settings, output, seconds=seconds, mask_texts=not no_mask_texts)
    )
    click.echo(f"record: {count} event(s) written to {output}")


@main.group()
def data() -> None:
    """What the bot stores about people (docs/operations.md): erase a person's data."""


@data.command("erase")
@_config_option
@click.option("--visitor", "visitor_id", default=None, metavar="ID", help="The visitor's id.")
@click.option("--email", default=None, metavar="ADDRESS", help="The person's e-mail address.")
def data_erase(config_path: str | None, visitor_id: str | None, email: str | None) -> None:
    """Remove a person's data from every store and print what was removed (stop the bot first)."""
    from agentbot.data_erase import erase_for_config, format_report

    if not visitor_id and not email:
        raise click.UsageError("give --visitor ID or --email ADDRESS (or both)")
    config = _load_bot_config(config_path)
    try:
        report = anyio.run(lambda: erase_for_config(config, visitor_id=visitor_id, email=email))
    except AgentbotError as exc:
        raise click.ClickException(f"{exc} (is the bot still running? stop it first)") from None
    who = " and ".join(x for x in (visitor_id and f"visitor {visitor_id}", email) if x)
    click.echo(f"erased {who} from {config.resolved_storage_path()}:")
    for line in format_report(report):
        click.echo(line)


@main.command()
def plugins() -> None:
    """List the installed plugins (the `agentbot` entry points) and the hooks they implement."""
    from agentbot.runtime.launcher import installed_plugin_report

    report = installed_plugin_report()
    if not report:
        click.echo("No plugins installed (entry-point group `agentbot`).")
    for plugin in report:
        origin = f" [{plugin.distribution}]" if plugin.distribution else ""
        click.echo(f"{plugin.name}: {plugin.value}{origin}")
        if plugin.error is not None:
            click.echo(f"  cannot load: {plugin.error}")
            continue
        click.echo(f"  hooks: {', '.join(plugin.hooks) or 'none'}")
        if plugin.unknown_hooks:
            click.echo(f"  not agentbot hooks: {', '.join(plugin.unknown_hooks)}")
    click.echo("Enable one with a [plugins.NAME] section in bot.toml.")


@main.command("new-plugin")
@click.argument("name")
@click.option(
    "-d",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the project folder.",
)
def new_plugin(name: str, directory: Path) -> None:
    """Create a pip-installable plugin project NAME with a hook, a config class and a test.

    Its tests pass as generated: cd into it, `pip install -e '.[test]'`, `pytest`.
    """
    from agentbot.scaffold import generate_plugin, plugin_names

    try:
        root = generate_plugin(name, directory)
    except AgentbotError as exc:
        raise click.ClickException(str(exc)) from None
    names = plugin_names(name)
    click.echo(f"Created {root}: the plugin {names.package!r} (distribution {names.dist}).")
    click.echo("")
    click.echo("Next:")
    steps = [
        (f"cd {root}", ""),
        ("pip install -e '.[test]' && pytest", "its tests pass as generated"),
        (f"edit src/{names.package}/plugin.py", "your hooks (docs/hooks.md)"),
        (f"add [plugins.{names.package}] to bot.toml", "to run it in your bot"),
    ]
    width = max(len(command) for command, _why in steps)
    for command, why in steps:
        click.echo(f"  {command.ljust(width)}  # {why}" if why else f"  {command}")
