"""What the ``agentbot run``/``check``/``plugins`` commands do, without argv or logging set-up.

``cli.py`` parses arguments and configures logging; the work lives here so it is testable
(and usable from an embedding program) without a subprocess.

Shutdown on SIGINT/SIGTERM (:func:`run_until_signalled`): the first signal calls
:meth:`Bot.stop` — stop reading events, cancel pending replies (each sends ``chat.typing``
false), run ``on_stop``, close the client — and the process exits 0. If that takes longer
than ``[runtime] shutdown_grace_seconds`` plus a small margin, or a second signal arrives,
the bot is cancelled outright (cleanup that must reach the wire is shielded and time-limited,
so typing false still goes out).

With ``[runtime] storage_url`` the bot runs as one replica of several (:mod:`agentbot.
runtime.replica`): a standby waits for the lease first, and a signal then ends the wait at
once; a lost lease stops the bot and raises ``LeaseLost`` (exit non-zero).
"""

from __future__ import annotations

import gc
import importlib.metadata
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.abc
import attrs

from agentbot.runtime.bot import Bot
from agentbot.runtime.config import BotConfig
from agentbot.runtime.plugins import ENTRY_POINT_GROUP, HOOK_NAMES
from agentbot.runtime.replica import STANDBY, run_replica

__all__ = [
    "FORCE_MARGIN_SECONDS",
    "GC_THRESHOLDS",
    "InstalledPlugin",
    "check_bot",
    "config_secrets",
    "installed_plugin_report",
    "run_until_signalled",
    "stop_on_signals",
    "tune_gc",
]

logger = logging.getLogger(__name__)

FORCE_MARGIN_SECONDS = 0.3
"""Time past the shutdown grace after which a signalled bot is cancelled outright."""

_HOOK_PREFIXES = ("on_", "register_")

GC_THRESHOLDS = (20_000, 20, 20)
"""Garbage collector thresholds for a running bot (CPython's default is (700, 10, 10))."""


def tune_gc() -> None:
    """Make garbage collection pauses rarer and shorter for a long-running bot process.

    Why: every reply allocates (events, tasks, dicts) and CPython's default thresholds then
    run a collection every 700 allocations and a full one often enough that, with thousands
    of chats alive, a pause of tens of milliseconds lands on the path from a visitor message
    to typing true (benchmarks/runtime_latency.py shows it). ``gc.freeze()`` moves everything
    loaded at start-up (modules, plugins, config) out of the collector's sight, and higher
    thresholds collect less often. Memory is still reclaimed by reference counting; only
    cycles wait longer. Process-wide policy, so ``cli.py`` calls it, not the Bot.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def run_until_signalled(
    bot: Bot,
    *,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    supervised: bool = False,
) -> None:
    """Run ``bot`` until it stops on its own or one of ``signals`` arrives; then shut down.

    Must run in the main thread (signal handlers). Returns normally after a signal, so the
    process exits 0. ``supervised`` (under ``run --reload``): the first signal is the
    supervisor restarting the bot, which says so itself, so it is logged at DEBUG only.
    """

    def stop() -> bool:
        bot.stop()
        return bot.replica_role == STANDBY  # not logged in: nothing to wind down

    await stop_on_signals(
        lambda: run_replica(bot),  # with storage_url: as a standby until it holds the lease
        stop=stop,
        force_after_seconds=bot.config.runtime.shutdown_grace_seconds + FORCE_MARGIN_SECONDS,
        signals=signals,
        announce=lambda name: logger.log(
            logging.DEBUG if supervised else logging.INFO, "%s received: shutting down", name
        ),
    )


async def stop_on_signals(
    work: Callable[[], Awaitable[None]],
    *,
    stop: Callable[[], bool],
    force_after_seconds: float,
    signals: Sequence[signal.Signals],
    announce: Callable[[str], None],
) -> None:
    """Run ``work()`` until it returns; on the first of ``signals`` ask it to stop.

    ``stop()`` starts the graceful shutdown and returns True when there is nothing to wind
    down (then ``work`` is cancelled at once). A second signal, or ``force_after_seconds``
    passing, cancels ``work`` outright: cleanup that must reach the wire is shielded and
    time-limited where it runs, so typing false still goes out. Main thread only.
    """
    async with anyio.create_task_group() as tg:

        async def watch(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            with anyio.open_signal_receiver(*signals) as received:
                task_status.started()
                async for signum in received:
                    announce(signal.Signals(signum).name)
                    if stop():
                        tg.cancel_scope.cancel()
                        return
                    break
                with anyio.move_on_after(force_after_seconds):
                    async for signum in received:
                        logger.warning(
                            "%s received again: stopping now", signal.Signals(signum).name
                        )
                        break
            logger.warning("shutdown took too long; cancelling")
            tg.cancel_scope.cancel()

        await tg.start(watch)
        await work()
        tg.cancel_scope.cancel()


async def check_bot(bot: Bot, *, login: bool = True, echo: Callable[[str], None]) -> None:
    """Validate config, load plugins and (optionally) try the login; describe what would run.

    Each line of the description goes to ``echo`` as soon as it is known, so a failing login
    still shows what was checked before it. Runs each plugin's ``on_check``. Raises what
    :meth:`Bot.prepare`, the plugin checks and the login raise (``ConfigError``,
    ``PluginError``, ``AuthFailure``, ``ConnectionLost``).
    """
    config = bot.config
    plugins = bot.prepare()
    settings = config.smartsupp
    lines = [
        f"config: {config.source}",
        f"server: {settings.url} (Engine.IO {settings.eio}), agent {settings.agent_id}, "
        f"key {'set' if settings.key else 'missing'}, "
        f"auth token {'set' if settings.auth_token else 'not set'}",
        f"track_visitors: {str(bot.track_visitors).lower()}",
        f"pacing: speed factor (time_scale) {config.pacing.time_scale:g}, "
        f"{config.pacing.min_seconds:g}-{config.pacing.max_seconds:g} s per message",
        f"storage: {_describe_storage(config)}",
        f"plugins ({len(plugins)}):",
    ]
    if not plugins:
        lines.append("  none: add a [plugins.NAME] section to bot.toml (see `agentbot plugins`)")
    for plugin in plugins:
        lines.append(f"  {plugin.rank + 1}. {plugin.name} ({plugin.source})")
        lines.append(f"     hooks: {', '.join(plugin.hooks) or 'none'}")
        if plugin.config is not None:
            lines.append(f"     config: {_describe_config(plugin.config)}")
    for line in lines:
        echo(line)
    # The plugins' own start-up checks (a FAQ file that is missing or malformed): without
    # them check said ok while `run` then answered nothing.
    await bot.host.check(bot.handle_for)
    checked = [p.name for p in plugins if "on_check" in p.hooks]
    echo(f"plugin checks: {'ok (' + ', '.join(checked) + ')' if checked else 'none offered'}")
    if login:
        async with bot.make_client() as client:
            session = client.session
            agents = tuple(session.account.agents)
            online = sum(1 for agent in agents if agent.status == "online")
            name = session.agent.nickname or session.agent.fullname or session.agent.id
            echo(
                f"login: ok as agent {session.agent.id} ({name}); account has "
                f"{len(agents)} agent(s), {online} online, {len(session.account.groups)} group(s)"
            )
    else:
        echo("login: skipped")


def _describe_storage(config: BotConfig) -> str:
    url = config.runtime.storage_url
    if url is None:
        return str(config.resolved_storage_path())
    from agentbot.runtime.pg_storage import describe_url  # no password in it

    return f"postgresql://{describe_url(url)} (one active replica per bot)"


def _describe_config(config: object) -> str:
    # attrs' repr already hides repr=False (secret) fields.
    return repr(config) if attrs.has(type(config)) else type(config).__name__


@attrs.frozen
class InstalledPlugin:
    """One entry in the ``agentbot`` entry-point group, for ``agentbot plugins``."""

    name: str
    value: str
    distribution: str | None
    hooks: tuple[str, ...] = ()
    unknown_hooks: tuple[str, ...] = ()
    error: str | None = None


def installed_plugin_report() -> list[InstalledPlugin]:
    """Load every installed plugin (without running it) and list the hooks it implements."""
    report = []
    entry_points = sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
    )
    for entry_point in entry_points:
        distribution = entry_point.dist.name if entry_point.dist is not None else None
        try:
            obj = entry_point.load()
        except Exception as exc:
            report.append(
                InstalledPlugin(
                    name=entry_point.name,
                    value=entry_point.value,
                    distribution=distribution,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        names = [
            name
            for name in dir(obj)
            if name.startswith(_HOOK_PREFIXES) and inspect.isroutine(getattr(obj, name, None))
        ]
        report.append(
            InstalledPlugin(
                name=entry_point.name,
                value=entry_point.value,
                distribution=distribution,
                hooks=tuple(name for name in HOOK_NAMES if name in names),
                unknown_hooks=tuple(name for name in names if name not in HOOK_NAMES),
            )
        )
    return report


def config_secrets(config: BotConfig) -> tuple[str, ...]:
    """Return the secret values a log formatter must redact."""
    values = (config.smartsupp.key, config.smartsupp.auth_token, config.runtime.storage_url)
    return tuple(s for s in values if s)
