"""Many bots in one process: ``agentbot run -c a.toml -c b.toml`` or ``-c folder/``.

An agency runs the bot for hundreds of Smartsupp accounts; one process per account costs a
Python interpreter each (tens of MB), while an idle :class:`~agentbot.runtime.bot.Bot` costs
a few hundred KB (``benchmarks/fleet.py`` measures both). A :class:`Fleet` runs several bots
side by side in one task group, each still isolated:

* its own connection, plugin host (its own plugin objects and config), rate limiter, clock
  and storage file: :func:`storage_path_for` gives every bot a file of its own, and two bots
  naming the same file are a :class:`~agentbot.errors.ConfigError` at start-up (SQLite's
  exclusive lock would let only the first one in, and plugin stores are not namespaced);
* its own fate: a bot whose login is refused (a wrong key: ``AuthFailure``) is logged with
  its name and **left stopped** — the same key will not start working by itself, and
  retrying it would hammer the server — while the others run on. A server that cannot be
  reached at the first login (``ConnectionLost``) is **retried** with capped exponential
  backoff and full jitter (:class:`LoginRetry`), since that does fix itself. Any other
  error of one bot (a plugin failing to load, a bug) is logged and leaves only that bot
  stopped;
* its name in every log line (:data:`~agentbot.runtime.logs.BOT_NAME`, a context variable
  set in the bot's task and inherited by every task it starts) and in every metric (one
  :class:`~agentbot.runtime.metrics.Metrics`, :meth:`~Metrics.add_bot` per bot, one ops
  endpoint for the process; ``/readyz`` is ready only when every bot is logged in).

* its lease (:func:`~agentbot.runtime.replica.run_replica`): with ``[runtime] storage_url``
  two processes running the same bot file never both log in; the second waits as a
  ``standby`` (counted as settled, so the fleet starts without it), takes over when the
  other ends, and goes back to standby if the lease is taken from it;
* its plugin options marked secret redacted from every log line, as for a single bot.

SIGTERM/SIGINT (:func:`run_fleet_until_signalled`) stops every bot the way one bot stops.
"""

from __future__ import annotations

import logging
import random
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import anyio
import anyio.abc
import attrs

from agentbot.errors import AgentbotError, AuthFailure, ConfigError, ConnectionLost
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import BotConfig, default_storage_path, load_config
from agentbot.runtime.launcher import FORCE_MARGIN_SECONDS, stop_on_signals
from agentbot.runtime.lease import LeaseLost
from agentbot.runtime.logs import BOT_NAME, install_redaction, secret_values
from agentbot.runtime.metrics import Metrics
from agentbot.runtime.ops_server import OpsServer, parse_listen
from agentbot.runtime.replica import run_replica
from agentbot.runtime.storage import Storage

__all__ = [
    "DEFAULT_MAX_CONCURRENT_LOGINS",
    "FLEET_STORAGE_DIR",
    "Fleet",
    "LoginRetry",
    "Member",
    "expand_config_paths",
    "load_fleet",
    "run_fleet_until_signalled",
    "storage_path_for",
]

logger = logging.getLogger(__name__)

FLEET_STORAGE_DIR = "fleet"
"""Folder (in the user data dir) of the SQLite files of fleet bots without storage_path."""

DEFAULT_MAX_CONCURRENT_LOGINS = 32
"""How many bots of a fleet log in at once; the others wait their turn (see :class:`Fleet`)."""
_OPENING_THREADS = 4
"""Worker threads opening the bots' SQLite files at start."""

BotFactory = Callable[[str, BotConfig, Storage | None], Bot]


@attrs.frozen(kw_only=True)
class Member:
    """One bot of a fleet: its name (the file's stem, unique) and its validated config."""

    name: str
    config: BotConfig


@attrs.frozen(kw_only=True)
class LoginRetry:
    """Backoff between first-login attempts of a bot whose server could not be reached."""

    initial_delay_seconds: float = 1.0
    max_delay_seconds: float = 300.0
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Return the wait before retry ``attempt`` (1-based): full jitter under the cap."""
        ceiling = min(
            self.max_delay_seconds, self.initial_delay_seconds * self.multiplier ** (attempt - 1)
        )
        return rng.uniform(0, ceiling)


def expand_config_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Return the bot files named: each file as given, each folder's ``*.toml`` sorted.

    Raises :class:`ConfigError` for a folder without any ``*.toml`` file.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not files:
                raise ConfigError(f"{path}: no *.toml bot files in this folder", path=str(path))
            found.extend(files)
        else:
            found.append(path)
    return found


def load_fleet(
    paths: Iterable[str | Path], *, env: Mapping[str, str] | None = None
) -> list[Member]:
    """Read and validate every bot file of ``paths`` (files or folders); name each bot.

    A bot's name is its file's stem (``shop-a.toml`` → ``shop-a``). Two files with the
    same stem, or two bots on one storage file, are a :class:`ConfigError`.
    """
    members: list[Member] = []
    names: dict[str, Path] = {}
    for path in expand_config_paths(paths):
        name = path.stem
        if name in names:
            raise ConfigError(
                f"{path}: a bot named {name!r} is already loaded from {names[name]}; "
                "bot files need distinct names",
                path=str(path),
            )
        names[name] = path
        members.append(Member(name=name, config=load_config(path, env=env)))
    _check_storage(members)
    return members


def storage_path_for(member: Member) -> Path | None:
    """Return the SQLite file of ``member``: its ``storage_path``, else one of its own.

    A bot without ``[runtime] storage_path`` gets ``<user data dir>/agentbot/fleet/<name>
    .sqlite3`` (the single-bot default file would be shared). None when the bot keeps its
    state in PostgreSQL (``storage_url``).
    """
    runtime = member.config.runtime
    if runtime.storage_url is not None:
        return None
    if runtime.storage_path is not None:
        return member.config.resolved_storage_path()
    return default_storage_path().parent / FLEET_STORAGE_DIR / f"{member.name}.sqlite3"


def _check_storage(members: Sequence[Member]) -> None:
    owners: dict[Path, str] = {}
    for member in members:
        path = storage_path_for(member)
        if path is None:
            continue
        key = path.expanduser().resolve()
        if key in owners:
            raise ConfigError(
                f"bots {owners[key]!r} and {member.name!r} use the same storage file {path}; "
                "give each its own [runtime] storage_path",
                path=str(member.config.path),
                section="runtime",
                key="storage_path",
            )
        owners[key] = member.name


def _listen_of(members: Sequence[Member]) -> str | None:
    """The one ``[server] listen`` of the process (every bot naming it must agree)."""
    wanted = {m.config.server.listen for m in members if m.config.server.listen is not None}
    if len(wanted) > 1:
        raise ConfigError(
            "the bots ask for different [server] listen addresses "
            f"({', '.join(sorted(wanted))}); one process serves one operations endpoint",
            section="server",
            key="listen",
        )
    return next(iter(wanted), None)


def _default_bot(name: str, config: BotConfig, storage: Storage | None) -> Bot:
    return Bot(config, storage=storage)


class Fleet:
    """Run ``members`` side by side in one process, each isolated (see the module docs).

    ``make_bot(name, config, storage)`` builds each bot (tests hand in sandbox wiring);
    ``metrics`` is the process's one registry (made if not given); ``clock`` paces the login
    retries (``retry``); ``open_storage(member)`` opens a bot's store (default: its own
    SQLite file, :func:`storage_path_for`, opened in a worker thread).

    At most ``max_concurrent_logins`` bots log in at once. A thousand simultaneous logins
    queue their handshakes behind one another on the one event loop and on the server; each
    took longer than the client's login timeout (10 s), failed, and was retried with
    backoff, so a large fleet never came up. In turns, each login takes what one login
    takes, and the fleet is up in about ``bots / max_concurrent_logins`` login times.
    """

    def __init__(
        self,
        members: Sequence[Member],
        *,
        make_bot: BotFactory | None = None,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
        retry: LoginRetry | None = None,
        open_storage: Callable[[Member], Storage | None] | None = None,
        seed: int | None = None,
        max_concurrent_logins: int = DEFAULT_MAX_CONCURRENT_LOGINS,
    ) -> None:
        if max_concurrent_logins < 1:
            raise ConfigError(f"max_concurrent_logins must be >= 1, got {max_concurrent_logins}")
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            raise ConfigError("fleet bot names must be unique")
        self.members = tuple(members)
        self.metrics = metrics if metrics is not None else Metrics()
        self.clock: Clock = clock if clock is not None else RealClock()
        self.retry = retry if retry is not None else LoginRetry()
        self._make_bot = make_bot or _default_bot
        self._open_storage = open_storage or _own_sqlite
        self._rng = random.Random(seed)
        self.bots: dict[str, Bot] = {}
        """The current Bot of each member (a new one per login attempt)."""
        self.states: dict[str, str] = {m.name: "starting" for m in members}
        """Each bot's state: starting, logged_in, standby, retrying, stopped, auth_failure,
        failed."""
        self._stopping = False
        self._sleeps: dict[str, anyio.CancelScope] = {}
        self.max_concurrent_logins = max_concurrent_logins
        self._logins: anyio.Semaphore | None = None  # made in run(): bound to its event loop
        self._opening: anyio.CapacityLimiter | None = None

    @property
    def listen(self) -> str | None:
        """The process's ``[server] listen`` (raises ConfigError if the bots disagree)."""
        return _listen_of(self.members)

    def bot(self, name: str) -> Bot:
        """Return bot ``name``'s current Bot."""
        return self.bots[name]

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[Fleet] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Run every bot until all have stopped; report readiness when each has tried once.

        "Tried once" is logged in, or stopped for good (a refused login): so a caller can
        wait for a fleet with a broken bot in it. Returns when every bot is done.
        """
        listen = self.listen
        self._logins = anyio.Semaphore(self.max_concurrent_logins)
        self._opening = anyio.CapacityLimiter(_OPENING_THREADS)
        async with anyio.create_task_group() as tg:
            if listen is not None:
                host, port = parse_listen(listen)
                await tg.start(OpsServer(self.metrics, host=host, port=port).serve)
            settled = anyio.Event()
            remaining = {m.name for m in self.members}

            def settle(name: str) -> None:
                remaining.discard(name)
                if not remaining:
                    settled.set()

            if not self.members:
                settled.set()
            async with anyio.create_task_group() as bots:
                for member in self.members:
                    bots.start_soon(
                        self._run_member, member, settle, name=f"agentbot {member.name}"
                    )
                await settled.wait()
                task_status.started(self)
            tg.cancel_scope.cancel()  # the ops endpoint stops with the last bot

    def stop(self) -> None:
        """Ask every bot to shut down (returns at once; :meth:`run` returns when done)."""
        self._stopping = True
        for bot in list(self.bots.values()):
            bot.stop()
        for scope in list(self._sleeps.values()):
            scope.cancel()

    @property
    def shutdown_grace_seconds(self) -> float:
        """The longest ``[runtime] shutdown_grace_seconds`` of the bots."""
        return max((m.config.runtime.shutdown_grace_seconds for m in self.members), default=0.0)

    async def _run_member(self, member: Member, settle: Callable[[str], None]) -> None:
        name = member.name
        BOT_NAME.set(name)  # this task's context: every log line of this bot names it
        try:
            # In a worker thread: opening a SQLite file (WAL set-up, schema) takes ~9 ms of
            # file I/O, and a thousand of them on the event loop stalled every login.
            storage = await anyio.to_thread.run_sync(
                self._open_storage, member, limiter=self._opening
            )
        except AgentbotError as exc:
            logger.error("bot %s cannot open its storage: %s; left stopped", name, exc)
            self.states[name] = "failed"
            settle(name)
            return
        try:
            await self._attempts(member, storage, settle)
        finally:
            settle(name)
            if storage is not None:
                storage.close()

    async def _attempts(
        self, member: Member, storage: Storage | None, settle: Callable[[str], None]
    ) -> None:
        name, attempt = member.name, 0
        while not self._stopping:
            bot = self._make_bot(name, member.config, storage)
            self.bots[name] = bot
            # Login failures are counted by the bot itself (Bot._login_failed, from the client).
            bot.observer = self.metrics.add_bot(name, bot)
            self.states[name] = "starting"

            slot = _LoginSlot(self._logins)

            def logged_in(_bot: object = None, *, slot: _LoginSlot = slot) -> None:
                nonlocal attempt
                slot.release()
                self.states[name] = "logged_in"
                attempt = 0
                settle(name)

            def standby(*, slot: _LoginSlot = slot) -> None:
                slot.release()  # waiting for the lease is not a login
                self.states[name] = "standby"
                settle(name)  # another replica runs this bot; the fleet is up without it

            try:
                self._redact_plugin_secrets(bot)
                await slot.acquire()
                # Through the lease (with storage_url): a bot another process runs waits.
                await run_replica(bot, task_status=_Started(logged_in), on_standby=standby)
            except Exception as exc:
                slot.release()
                failure = _single_error(exc)  # trio hands a task's error in a group
                if isinstance(failure, AuthFailure):
                    bot.closed_reason = "auth_failure"
                    self.states[name] = "auth_failure"
                    logger.error(
                        "bot %s: login refused (%s); check its [smartsupp] agent_id, key and "
                        "auth_token; this bot stays stopped, the others run on",
                        name,
                        failure,
                    )
                    return
                if isinstance(failure, LeaseLost):
                    # Another replica took this bot over: wait as its standby again (the
                    # single-bot path exits for its supervisor; here the others run on).
                    logger.warning("bot %s: %s; back to standby", name, failure)
                    self.states[name] = "starting"
                    continue
                if isinstance(failure, ConnectionLost) and self.states[name] in (
                    "starting",
                    "standby",
                ):
                    attempt += 1
                    delay = self.retry.delay(attempt, self._rng)
                    self.states[name] = "retrying"
                    settle(name)  # it has tried; the fleet is up without it for now
                    logger.warning(
                        "bot %s: cannot log in (%s); retry %d in %.1f s",
                        name,
                        failure,
                        attempt,
                        delay,
                    )
                    with anyio.CancelScope() as scope:
                        self._sleeps[name] = scope
                        await self.clock.sleep_until(self.clock.now() + delay)
                    self._sleeps.pop(name, None)
                    continue
                self.states[name] = "failed"
                # One bot's fault (a plugin that does not load, a bug) stops only that bot.
                logger.error("bot %s failed: %s; left stopped", name, failure, exc_info=exc)
                return
            slot.release()
            self.states[name] = "stopped"
            if bot.closed_reason is not None:
                logger.warning("bot %s stopped: %s", name, bot.closed_reason)
            return
        self.states[name] = "stopped"

    def _redact_plugin_secrets(self, bot: Bot) -> None:
        """Load ``bot``'s plugins and redact their options marked secret from every log line.

        The single-bot ``agentbot run`` does the same before it starts; here each bot's
        plugin configs are known only once that bot is prepared. Raises what
        :meth:`Bot.prepare` raises (the bot is then left stopped as ``failed``).
        """
        plugins = bot.prepare()
        secrets = [value for plugin in plugins for value in secret_values(plugin.config)]
        if secrets:
            install_redaction(secrets)


def _single_error(exc: BaseException) -> BaseException:
    """The one error inside nested exception groups, or ``exc`` itself if there are several."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class _LoginSlot:
    """One bot's turn among the fleet's concurrent logins, released once (logged in, gave
    up, or went standby), whichever comes first."""

    def __init__(self, semaphore: anyio.Semaphore | None) -> None:
        self._semaphore = semaphore
        self._held = False

    async def acquire(self) -> None:
        if self._semaphore is not None:
            await self._semaphore.acquire()
            self._held = True

    def release(self) -> None:
        if self._held and self._semaphore is not None:
            self._held = False
            self._semaphore.release()


class _Started:
    """The ``task_status`` a member's Bot reports its login through."""

    def __init__(self, callback: Callable[[object], None]) -> None:
        self._callback = callback

    def started(self, value: object = None) -> None:
        self._callback(value)


def _own_sqlite(member: Member) -> Storage | None:
    path = storage_path_for(member)
    if path is None:
        return None  # PostgreSQL: the Bot opens it itself
    path.parent.mkdir(parents=True, exist_ok=True)
    runtime = member.config.runtime
    return Storage(path, on_error=runtime.on_storage_error)


async def run_fleet_until_signalled(
    fleet: Fleet, *, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)
) -> None:
    """Run ``fleet`` until every bot stops or a signal arrives; then stop all of them.

    The first signal stops every bot (typing false, ``on_stop``, logout); a second one, or
    the longest shutdown grace passing, cancels them outright. Main thread only.
    """

    def stop() -> bool:
        fleet.stop()
        return False

    await stop_on_signals(
        fleet.run,
        stop=stop,
        force_after_seconds=fleet.shutdown_grace_seconds + FORCE_MARGIN_SECONDS,
        signals=signals,
        announce=lambda name: logger.info("%s received: stopping every bot", name),
    )
