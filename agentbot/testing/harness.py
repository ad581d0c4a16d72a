"""The running harness: the bot, the sandbox, the virtual clock, and when the bot is settled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel

from agentbot.testing.records import HarnessTimeout, PluginFailed, TranscriptEntry
from agentbot.testing.visitor import SimulatedVisitor

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.clock import VirtualClock
    from agentbot.runtime.config import BotConfig
    from agentbot.runtime.storage import KeyValueStore, Storage
    from agentbot.sandbox import Sandbox, SandboxConfig, SandboxControl

__all__ = ["DEFAULT_WAIT_SECONDS", "SETTLE_ROUNDS", "BotHarness", "FailureLog"]

DEFAULT_WAIT_SECONDS = 20.0
"""Real seconds any one harness wait may take before it fails (a bug, not a slow machine)."""

SETTLE_ROUNDS = 50
"""Event-loop turns without any observable change after which the bot counts as settled."""

_SPIN_ROUNDS = 200  # turns spent spinning before polling gently (a plugin awaiting real I/O)
_POLL_SECONDS = 0.002  # the gentle poll's interval: granularity, never a condition
SANDBOX_URL = "http://sandbox"  # in-process: a client never resolves it


# ---------------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------------


class FailureLog(logging.Handler):
    """Collects the runtime's "plugin X: hook failed" records during a harness run."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        out = []
        for record in self.records:
            line = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                line += f"\n      {type(exc).__name__}: {exc}"
            out.append(line)
        return out


class BotHarness:
    """A running bot on an in-process sandbox, with the test's handles on both.

    Made by :func:`bot_harness` (the ``agentbot_harness`` fixture). Attributes:
    ``bot`` (the :class:`~agentbot.runtime.bot.Bot`), ``clock`` (its
    :class:`~agentbot.runtime.clock.VirtualClock`), ``config`` (the bot's
    :class:`~agentbot.runtime.config.BotConfig`), ``sandbox`` and ``control`` (the sandbox's
    live state and its control API, see docs/SANDBOX_SERVER.md), ``bot_id`` and ``human_id``
    (the sandbox's agents).
    """

    def __init__(
        self,
        *,
        app: Any,
        config: BotConfig,
        make_bot: Callable[[], Bot],
        clock: VirtualClock,
        storage: Storage,
        wait_seconds: float,
        failure_log: FailureLog,
        wall_clock: Callable[[], float],
    ) -> None:
        self.app = app
        self.sandbox: Sandbox = app.state.sandbox
        self.control: SandboxControl = app.state.control
        sandbox_config: SandboxConfig = self.sandbox.config
        self.sandbox_config = sandbox_config
        self.bot_id = sandbox_config.bot.id
        self.human_id = sandbox_config.human.id
        self.config = config
        self.clock = clock
        self.storage = storage
        self.wait_seconds = wait_seconds
        self._make_bot = make_bot
        self._failure_log = failure_log
        self._wall_clock = wall_clock
        self.bot: Bot = make_bot()
        self._tg: anyio.abc.TaskGroup | None = None
        self._bot_done = anyio.Event()
        self._undelivered: list[str] = []
        self._changes = 0
        self._visitors = 0

    def __repr__(self) -> str:
        return f"BotHarness(now={self.now():.3f}, plugins={self.plugin_names()!r})"

    # -- time ------------------------------------------------------------------------------

    def now(self) -> float:
        """Return the virtual time in seconds (the bot's clock and the transcript's)."""
        return self.clock.now()

    def wall_time(self) -> float:
        """Return the virtual wall time, epoch seconds: ``wall_time`` + :meth:`now`.

        Give it to a plugin that takes a wall clock (``AfterHours(wall_clock=...)``) so
        "Saturday night" is a value and opening hours move with the virtual clock.
        """
        return self._wall_clock()

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running every timer that falls due."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        target = self.now() + seconds
        while True:
            await self.settle()
            deadline = self.clock.next_deadline()
            if deadline is None or deadline > target:
                break
            await self._advance_to(deadline)
        await self._advance_to(target)
        await self.settle()

    async def _advance_to(self, moment: float) -> None:
        await self.clock.advance_to(moment)
        self.sandbox.wake_all()

    # -- settling --------------------------------------------------------------------------

    def _expect_delivery(self, message_id: str) -> None:
        self._undelivered.append(message_id)

    def _undelivered_now(self) -> list[str]:
        ledger = self.bot.ledger
        self._undelivered = [m for m in self._undelivered if not ledger.seen(m)]
        return self._undelivered

    def _busy_actors(self) -> int:
        # Busy chats plus running plugin background tasks: each is either parked on the
        # virtual clock (bot.sleep_until, bot.wait_for: then it is also one of the clock's
        # sleepers) or still working. A task blocked on anything else counts as working.
        return self.bot.busy_actors() + self.bot.background_tasks

    def _quiet(self) -> bool:
        return not self._undelivered_now() and self._busy_actors() <= self.clock.sleeper_count

    def _fingerprint(self) -> tuple[Any, ...]:
        return (
            self._changes,
            sum(self.bot.stats.values()),
            self.clock.sleeper_count,
            self.clock.next_deadline(),
            self._busy_actors(),
            len(self.bot.chats.actors),
        )

    @contextmanager
    def _bounded(self, what: str) -> Iterator[None]:
        try:
            with anyio.fail_after(self.wait_seconds):
                yield
        except TimeoutError:
            raise HarnessTimeout(
                f"{what} took more than {self.wait_seconds:g} s of real time: the bot or a "
                f"plugin hangs (undelivered messages: {self._undelivered or 'none'}, busy chats: "
                f"{self.bot.busy_actors()}, plugin background tasks: {self.bot.background_tasks}"
                f", clock sleepers: {self.clock.sleeper_count}; a background task waiting "
                "other than in bot.sleep_until or bot.wait_for counts as busy)"
                f"{self._failure_note()}"
            ) from None

    async def settle(self) -> None:
        """Wait, without moving virtual time, until the bot has done all it can do now.

        See the module docstring for the exact condition. Raises :class:`HarnessTimeout`
        after ``wait_seconds`` of real time.
        """
        with self._bounded("settling"):
            await self._settle()

    async def _settle(self) -> None:
        stable = 0
        spins = 0
        last: tuple[Any, ...] | None = None
        while stable < SETTLE_ROUNDS:
            if spins < _SPIN_ROUNDS:
                await anyio.lowlevel.checkpoint()
            else:
                await anyio.sleep(_POLL_SECONDS)
            current = self._fingerprint()
            if self._quiet() and current == last:
                stable += 1
            else:
                stable = 0
                spins += 1
            last = current

    async def _wait_delivered(self) -> None:
        # The bot's intake changes nothing the sandbox could announce: look after each turn.
        with self._bounded("delivering the visitor's message to the bot"):
            spins = 0
            while self._undelivered_now():
                spins += 1
                if spins < _SPIN_ROUNDS:
                    await anyio.lowlevel.checkpoint()
                else:
                    await anyio.sleep(_POLL_SECONDS)

    def _count_change(self) -> bool:
        self._changes += 1
        return False

    async def _watch_changes(self) -> None:
        # wait_until re-checks its predicate after every sandbox change: count them.
        await self.sandbox.wait_until(self._count_change)

    # -- people ----------------------------------------------------------------------------

    async def visitor(
        self, name: str | None = None, *, lang: str | None = None, **fields: Any
    ) -> SimulatedVisitor:
        """Create a visitor on the website (not chatting yet) and return it.

        ``fields`` are further visitor fields in snake_case: ``email``, ``phone``,
        ``page_url``, ``page_title``, ``referer``, ``domain``, ``variables``, ``visits``.
        """
        self._visitors += 1
        values: dict[str, Any] = {"name": name, "lang": lang, **fields}
        result = self.control.create_visitor(
            **{key: value for key, value in values.items() if value is not None}
        )
        await self.settle()
        return SimulatedVisitor(self, str(result["visitor"]["id"]), name)

    async def human_logs_in(self) -> None:
        """The sandbox's human agent logs in, so ``bot.humans_online()`` lists them.

        For plugins that behave differently when a colleague is online (after-hours cover,
        an honest hand-off message). The human connects over the real client, as the
        Smartsupp dashboard would, and stays online until the harness closes; the bot hears
        ``agent.connected`` and this returns once it does and has settled.
        """
        from agentbot.client import AgentClient

        assert self._tg is not None
        config = self.sandbox_config
        human = config.human
        logged_in = anyio.Event()

        async def stay_online() -> None:
            async with AgentClient(
                SANDBOX_URL,
                agent_id=human.id,
                key=config.account_key,
                auth_token=human.auth_token,
                eio=4,
                asgi_app=self.app,
            ):
                logged_in.set()
                await anyio.sleep_forever()

        self._tg.start_soon(stay_online, name="agentbot harness: human agent")
        with self._bounded("logging the human agent in"):
            await logged_in.wait()
            while human.id not in self.bot.humans_online():  # bot-side: look each turn
                await anyio.lowlevel.checkpoint()
        await self.settle()

    async def human_joins(self, visitor: SimulatedVisitor) -> None:
        """A human agent joins the visitor's chat (the bot should step back)."""
        self.control.agent_join(visitor._require_chat(), agent_id=self.human_id)
        await self.settle()

    async def human_says(self, visitor: SimulatedVisitor, text: str) -> None:
        """A human agent writes into the visitor's chat."""
        self.control.agent_message(visitor._require_chat(), text, agent_id=self.human_id)
        await self.settle()

    async def human_leaves(self, visitor: SimulatedVisitor) -> None:
        """The human agent leaves the visitor's chat."""
        self.control.agent_leave(visitor._require_chat(), agent_id=self.human_id)
        await self.settle()

    async def human_closes(self, visitor: SimulatedVisitor) -> None:
        """The human agent closes the visitor's chat."""
        self.control.close_chat(visitor._require_chat(), by="agent", agent_id=self.human_id)
        await self.settle()

    # -- the server --------------------------------------------------------------------------

    def _bot_connections(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control.connections(side="agent", agent_id=self.bot_id)[
            "connections"
        ]
        return found

    async def drop_connection(self) -> None:
        """Cut the bot's link as a network failure would; return once it is back and settled.

        The bot's plugins see ``on_disconnected`` and then ``on_connected(reconnect=True)``.
        """
        before = {conn["id"] for conn in self._bot_connections()}
        self.control.drop(agent_id=self.bot_id)

        def back() -> bool:
            return any(
                conn["open"] and conn["authenticated"] and conn["id"] not in before
                for conn in self._bot_connections()
            )

        with self._bounded("reconnecting after the dropped link"):
            await self.sandbox.wait_until(back)
        await self.settle()

    async def server_error(self, message: str, *, type: str | None = None) -> None:
        """Send the bot a ``server.error`` event (an error not tied to a request)."""
        self.control.server_error(message=message, agent_id=self.bot_id, type=type)
        await self.settle()

    # -- reading ---------------------------------------------------------------------------

    def transcript(self, chat_id: str) -> list[TranscriptEntry]:
        """Every transcript entry of one chat, in order."""
        entries = self.control.transcript(chat_id)["entries"]
        return [TranscriptEntry.from_wire(entry, bot_id=self.bot_id) for entry in entries]

    def bot_requests(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The bot's requests as the sandbox decoded them, socket and REST in one order.

        A socket request has ``name`` (``"chat.typing"``), ``args``, ``t``, ``connId``; a REST
        request has ``name`` = its operation (``"POST /v2/conversations/{id}"``), ``args`` =
        ``[{"chatId": ..., **body}]``, ``status``. With ``chat_id``, only those about that chat.
        """
        found: list[dict[str, Any]] = list(self.control.agent_requests(self.bot_id)["requests"])
        for entry in self.app.state.rest.requests:
            if entry.get("agentId") != self.bot_id:
                continue
            path_chat = entry["path"].split("/v2/conversations/", 1)[-1].split("/", 1)[0]
            payload = {"chatId": path_chat, **(entry.get("body") or {})}
            found.append({**entry, "name": entry["operation"], "args": [payload]})
        found.sort(key=lambda r: r["seq"])
        if chat_id is None:
            return found
        return [r for r in found if _chat_of(r) == chat_id]

    def plugin_names(self) -> list[str]:
        """The running plugins' names, in the plugin order."""
        return [plugin.name for plugin in self.bot.host.plugins]

    def plugin(self, name: str) -> object:
        """Return the plugin object running under ``name``."""
        for plugin in self.bot.host.plugins:
            if plugin.name == name:
                return plugin.plugin
        raise KeyError(f"no plugin named {name!r}; running: {', '.join(self.plugin_names())}")

    def plugin_config(self, name: str) -> Any:
        """Return the validated config object of plugin ``name`` (None if it has none)."""
        for plugin in self.bot.host.plugins:
            if plugin.name == name:
                return plugin.config
        raise KeyError(f"no plugin named {name!r}; running: {', '.join(self.plugin_names())}")

    def plugin_storage(self, name: str) -> KeyValueStore:
        """Return plugin ``name``'s key-value store (the one its ``bot.storage`` uses)."""
        return self.bot.plugin_storage(name)

    @property
    def plugin_errors(self) -> list[str]:
        """The runtime's reports of plugins that raised or overran their time budget."""
        return self._failure_log.lines()

    def _failure_note(self) -> str:
        lines = self.plugin_errors
        if not lines:
            return ""
        return "\nPlugin failures:\n" + "\n".join(f"    {line}" for line in lines)

    # -- lifecycle -------------------------------------------------------------------------

    async def _run_bot(
        self, bot: Bot, done: anyio.Event, *, task_status: anyio.abc.TaskStatus[Bot]
    ) -> None:
        try:
            await bot.run(task_status=task_status)
        finally:
            done.set()

    async def _start_bot(self) -> None:
        assert self._tg is not None
        self.bot.prepare()
        self._bot_done = anyio.Event()
        with self._bounded("logging the bot in"):
            await self._tg.start(self._run_bot, self.bot, self._bot_done)
        await self.settle()

    async def _stop_bot(self) -> None:
        self.bot.stop()
        with self._bounded("stopping the bot"):
            await self._bot_done.wait()

    async def restart(self) -> None:
        """Stop the bot (as on SIGTERM) and start a fresh one on the same storage and sandbox.

        The new bot loads its plugins again; what they stored survives, as it would across a
        real restart.
        """
        await self._stop_bot()
        self.bot = self._make_bot()
        await self._start_bot()

    def check_plugins(self) -> None:
        """Raise :class:`PluginFailed` if any plugin failed during the run so far."""
        failures = dict(self.bot.host.failures)
        timeouts = dict(self.bot.host.timeouts)
        if failures or timeouts or self.plugin_errors:
            raise PluginFailed(
                f"plugins failed during the test (failures {failures}, timeouts {timeouts}); "
                f"pass strict=False to allow it.{self._failure_note()}"
            )


def _chat_of(request: dict[str, Any]) -> str | None:
    args = request["args"]
    payload = args[0] if args else None
    return payload.get("chatId") if isinstance(payload, dict) else None
