"""``agentbot run --reload``: restart the bot whenever a plugin file or bot.toml changes.

Why a child process, not reloading modules in place: ``importlib.reload`` reloads one
module and leaves everything else that module touched (its imports, classes other modules
hold, the pluggy registrations, a plugin's open clients) from the old code; the bugs that
causes look like bugs in the plugin. A fresh interpreter per change is what uvicorn and
Flask do for the same reason. The cost is a new login, a second or so on the sandbox; the
answered-message ids live in the SQLite store, so a restart never answers a message twice.

The supervisor (this module, run by ``cli.py``) loads nothing of the bot: it reads bot.toml
to find what to watch — the file itself, each ``path = ...`` plugin, and the source folder
of each installed plugin that lives outside site-packages (an editable install, the
project you are working on) — starts ``python -m agentbot run`` without ``--reload``, and on
a change of a ``.py`` or ``.toml`` file there sends it SIGTERM (the normal graceful stop:
typing off, ``on_stop``) and starts a new one. A bot that fails to start (a syntax error, a
bad option) is reported and restarted on the next save; the supervisor keeps running until
Ctrl-C or SIGTERM.

Signals have one owner: the bot runs in its own session, so Ctrl-C in the terminal reaches
only the supervisor, which stops the bot with exactly one SIGTERM (a second signal to a bot
means "stop now, skip the graceful part"). A second Ctrl-C while the bot stops passes that
second signal on, and kills it if it still has not exited shortly after; either way the
supervisor exits 0. The supervisor keeps its signal handlers until it returns, so a second
Ctrl-C is never a KeyboardInterrupt traceback. The child is started with ``--supervised``,
so a restart does not log "SIGTERM received": the supervisor's own line says why.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio
import anyio.abc
import watchfiles

from agentbot.errors import AgentbotError
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.plugins import ENTRY_POINT_GROUP

__all__ = [
    "DEFAULT_DEBOUNCE_MS",
    "WATCHED_SUFFIXES",
    "run_with_reload",
    "watch_filter",
    "watch_paths",
]

logger = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS = 400
"""Changes within this window are one reload (an editor's save touches several files)."""

WATCHED_SUFFIXES = frozenset({".py", ".toml"})
"""Only source and config changes restart the bot: not its own SQLite file, logs or caches."""

_STOP_MARGIN_SECONDS = 5.0  # past the bot's own shutdown grace, before it is killed
_HURRY_SECONDS = 1.0  # after a second Ctrl-C, before the bot is killed
_INSTALLED = ("site-packages", "dist-packages")


def watch_filter(change: watchfiles.Change, path: str) -> bool:
    """Whether a changed file should restart the bot (``.py``/``.toml``, not in caches)."""
    parts = Path(path).parts
    if any(part in ("__pycache__", ".git", ".mypy_cache", ".ruff_cache") for part in parts):
        return False
    return Path(path).suffix in WATCHED_SUFFIXES


def _source_of(module_name: str) -> list[Path]:
    """Folders (for a package) or the file (for a module) that hold ``module_name``'s code."""
    top = module_name.partition(":")[0].partition(".")[0]
    try:
        module = importlib.import_module(top)
    except Exception:  # a broken plugin: nothing to watch until bot.toml changes
        return []
    locations = [Path(p) for p in getattr(module, "__path__", ())]
    if not locations and getattr(module, "__file__", None):
        locations = [Path(str(module.__file__))]
    return [p for p in locations if not any(part in _INSTALLED for part in p.parts)]


def watch_paths(config_path: Path | None, *, env: dict[str, str] | None = None) -> list[Path]:
    """Return what to watch for ``config_path``: the file, path plugins, editable packages.

    Never raises: a bot.toml that does not load yet is still watched, so fixing it reloads.
    """
    paths: list[Path] = []
    if config_path is not None:
        paths.append(config_path.resolve())
    try:
        config: BotConfig | None = load_config(config_path, env=env)
    except AgentbotError:
        config = None
    if config is not None:
        base = config_path.resolve().parent if config_path is not None else Path.cwd()
        installed = {
            ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        }
        for section in config.plugins:
            if not section.enabled:
                continue
            if section.path is not None:
                spec = section.path
                if spec.endswith(".py") or "/" in spec:
                    file = Path(spec).expanduser()
                    paths.append((file if file.is_absolute() else base / file).resolve())
                else:
                    paths.extend(_source_of(spec))
            elif section.name in installed:
                paths.extend(_source_of(installed[section.name]))
    unique: list[Path] = []
    for path in paths:
        if path not in unique and path.exists():
            unique.append(path)
    return unique


def _describe(changes: set[tuple[watchfiles.Change, str]]) -> str:
    names = sorted({Path(path).name for _change, path in changes})
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return shown or "a watched file"


async def _stop_child(
    process: anyio.abc.Process, *, hurry: anyio.Event, grace_seconds: float
) -> None:
    """Stop the bot gracefully with one SIGTERM; hurry it on ``hurry`` or past the deadline.

    ``hurry`` is a second Ctrl-C: a second SIGTERM makes the bot skip its graceful stop, and
    a bot still running ``_HURRY_SECONDS`` later is killed.
    """
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    with anyio.move_on_after(grace_seconds + _STOP_MARGIN_SECONDS):
        async with anyio.create_task_group() as race:

            async def exited() -> None:
                await process.wait()
                race.cancel_scope.cancel()

            async def hurried() -> None:
                await hurry.wait()
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                with anyio.move_on_after(_HURRY_SECONDS):
                    await process.wait()
                race.cancel_scope.cancel()

            race.start_soon(exited)
            race.start_soon(hurried)
    if process.returncode is None:
        process.kill()
        await process.wait()


Changes = set[tuple[watchfiles.Change, str]]


class _Watcher:
    """One watchfiles stream over a set of paths, restarted when the set changes.

    It runs for as long as the paths stay the same, across bot restarts, so a file saved
    while a bot is stopping or starting is never missed.
    """

    def __init__(self, tg: anyio.abc.TaskGroup, debounce_ms: int) -> None:
        self._tg = tg
        self._debounce_ms = debounce_ms
        self.paths: list[Path] = []
        self._scope: anyio.CancelScope | None = None
        self._stop: anyio.Event | None = None
        self._send, self.changes = anyio.create_memory_object_stream[Changes](16)

    async def watch(self, paths: list[Path]) -> None:
        """Watch ``paths`` from now on (no-op if they are what is watched already)."""
        if paths == self.paths and self._scope is not None:
            return
        self._cancel()
        self.paths = paths
        if paths:
            self._stop = anyio.Event()
            self._scope = await self._tg.start(self._run, paths, self._stop)

    async def _run(
        self,
        paths: list[Path],
        stop: anyio.Event,
        *,
        task_status: anyio.abc.TaskStatus[anyio.CancelScope],
    ) -> None:
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            async for changes in watchfiles.awatch(
                *paths, watch_filter=watch_filter, debounce=self._debounce_ms, stop_event=stop
            ):
                await self._send.send(changes)

    def _cancel(self) -> None:
        # watchfiles waits in a worker thread that a cancel alone cannot interrupt (it would
        # hold the exit for up to its 5 s poll); the stop event ends that wait within ~50 ms.
        if self._stop is not None:
            self._stop.set()
        if self._scope is not None:
            self._scope.cancel()
        self._scope = self._stop = None

    def close(self) -> None:
        """Stop watching and close the change stream."""
        self._cancel()
        self._send.close()
        self.changes.close()


async def _next_event(
    watcher: _Watcher, process: anyio.abc.Process | None, stopping: anyio.Event
) -> Changes:
    """Wait for the first of: a watched change (returned), the bot exiting, a stop signal."""
    changed: Changes = set()
    async with anyio.create_task_group() as race:

        async def on_change() -> None:
            changed.update(await watcher.changes.receive())
            while True:  # take what else is queued: one restart for one save
                try:
                    changed.update(watcher.changes.receive_nowait())
                except anyio.WouldBlock:
                    break
            race.cancel_scope.cancel()

        async def on_exit(child: anyio.abc.Process) -> None:
            await child.wait()
            race.cancel_scope.cancel()

        async def on_stop() -> None:
            await stopping.wait()
            race.cancel_scope.cancel()

        race.start_soon(on_change)
        race.start_soon(on_stop)
        if process is not None:
            race.start_soon(on_exit, process)
    return changed


async def run_with_reload(
    *,
    config_path: Path | None,
    child_args: Sequence[str],
    echo: Callable[[str], None],
    debounce_ms: int = DEFAULT_DEBOUNCE_MS,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Run ``python -m agentbot run CHILD_ARGS`` and restart it on changes; until a signal.

    ``echo`` reports each reload on the console. Must run in the main thread (signals).
    """
    command = [sys.executable, "-m", "agentbot", "run", "--supervised", *child_args]
    stopping = anyio.Event()
    hurry = anyio.Event()

    def grace() -> float:
        try:
            return load_config(config_path).runtime.shutdown_grace_seconds
        except AgentbotError:
            return 1.5

    async with anyio.create_task_group() as tg:

        async def watch_signals(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            # Held until the supervisor returns: a second Ctrl-C hurries, never interrupts.
            with anyio.open_signal_receiver(*signals) as received:
                task_status.started()
                async for _signum in received:
                    if not stopping.is_set():
                        stopping.set()
                    else:
                        hurry.set()

        await tg.start(watch_signals)
        watcher = _Watcher(tg, debounce_ms)
        waiting_for_fix = False
        while not stopping.is_set():
            paths = watch_paths(config_path)
            if paths != watcher.paths:
                echo(f"reload: watching {', '.join(map(str, paths)) or 'nothing'}")
            await watcher.watch(paths)
            process: anyio.abc.Process | None = None
            if not waiting_for_fix:
                # Its own session: Ctrl-C in the terminal is the supervisor's to pass on.
                process = await anyio.open_process(
                    command, stdin=None, stdout=None, stderr=None, start_new_session=True
                )
            changed = await _next_event(watcher, process, stopping)
            exited = process is not None and process.returncode is not None
            if exited and not changed and not stopping.is_set():
                assert process is not None
                echo(
                    f"reload: the bot exited with code {process.returncode}; "
                    "waiting for a change to start it again"
                )
                waiting_for_fix = True
                continue
            waiting_for_fix = False
            if changed and not stopping.is_set():
                echo(f"reload: {_describe(changed)} changed; restarting the bot")
            if process is not None:
                with anyio.CancelScope(shield=True):
                    await _stop_child(process, hurry=hurry, grace_seconds=grace())
        watcher.close()
        tg.cancel_scope.cancel()
