"""The Bot: reads the event stream, routes each event to its chat, and runs the plugins.

One task reads events from the client and dispatches them without waiting: each chat event is
applied at once to the chat's :class:`~agentbot.runtime.chat_state.ChatState` (so "a human
joined" silences the bot immediately, before any hook runs) and handed to that chat's actor
(:mod:`agentbot.runtime.actors`), which runs the hooks and the paced send sequence.
Account-wide events (visitors, agents, errors, reconnects) go to one account actor, so their
hooks run in order too. Which hook an event calls is one table (:mod:`agentbot.runtime.dispatch`).

Where each rule lives:

* the chat rules (answer only visitors, human first, hand-off, closed) — ``chat_state.py``;
* "never the same visitor message twice", the outbox and the chat facts across restarts —
  ``ledger.py`` (keyed by agent and account, so two bots never share answers);
* typing on the same link as the message, exactly-once delivery — ``speaker.py``;
* what happened while the bot was away — ``resync.py``, after every login;
* the transport (REST or socket) and chat actions — ``outbound.py``.

Shutdown (:meth:`Bot.stop`, or cancelling :meth:`Bot.run`): stop reading events, cancel the
actors (each sends ``chat.typing`` false for a reply in progress), run ``on_stop``, close the
client, close storage — all within ``[runtime] shutdown_grace_seconds``.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from agentbot.api import ServerErrorEvent, VisitorConnected, VisitorUpdated
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.runtime.account import AccountState
from agentbot.runtime.actors import ChatActor, Incoming
from agentbot.runtime.background import BackgroundTasks
from agentbot.runtime.chats import MAX_TRACKED_CHATS, Chats
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import BotConfig
from agentbot.runtime.dispatch import SessionStarted, chat_id_of
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.limits import TokenBucket
from agentbot.runtime.logs import CHAT_ID
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.plugins import LoadedPlugin, PluginHost
from agentbot.runtime.ports import AgentClientLike, ClientFactory
from agentbot.runtime.resync import resync
from agentbot.runtime.session_facts import SessionFacts
from agentbot.runtime.speaker import Speaker
from agentbot.runtime.storage import KeyValueStore, Storage
from agentbot.runtime.visitors import VisitorDirectory
from agentbot.runtime.wiring import (
    default_client,
    default_outbound,
    open_ledger,
    open_storage,
    stop_on_rest_auth_failure,
    visitor_fetcher,
)

if TYPE_CHECKING:
    from agentbot.runtime.metrics import BotMetrics

__all__ = ["MAX_TRACKED_CHATS", "Bot", "SessionStarted"]  # MAX_TRACKED_CHATS: see chats.py

logger = logging.getLogger(__name__)

ACCOUNT_QUEUE_LIMIT = 1024
"""Inbox bound of the account actor (visitor tracking can be chatty)."""

OutboundFactory = Callable[["Bot"], Outbound]


class Bot(SessionFacts):
    """A Smartsupp chat bot: plugins + the rules of a careful human agent.

    ``config``: the validated bot.toml; ``plugins``: extra ``(name, object)`` plugins. Parts a
    test or an embedding program may hand in (defaults in :mod:`agentbot.runtime.wiring`):
    ``connect`` (builds the socket client), ``outbound`` (the transport), ``clock`` (pacing,
    limits, plugins' sleeps), ``wall_clock`` (epoch seconds), ``storage``, ``entry_points``.
    The session's facts (``agent_id``, ``session``, ``agents``, ``humans_online``,
    ``track_visitors``, ``client``) come from :class:`~agentbot.runtime.session_facts.SessionFacts`.
    """

    def __init__(
        self,
        config: BotConfig,
        *,
        plugins: Sequence[tuple[str, object]] = (),
        connect: ClientFactory | None = None,
        outbound: OutboundFactory | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] | None = None,
        storage: Storage | None = None,
        entry_points: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock if clock is not None else RealClock()
        self.wall_clock: Callable[[], float] = wall_clock if wall_clock is not None else time.time
        self.host = PluginHost(config, extra=plugins, entry_points=entry_points)
        self.stats: collections.Counter[str] = collections.Counter()
        """Counts of what happened: events, replies sent, duplicates, cancellations, …"""
        runtime = config.runtime
        self.rate_limiter = TokenBucket(
            rate=runtime.max_messages_per_second, burst=runtime.message_burst, clock=self.clock
        )
        self.chats = Chats(self)
        """Every chat the bot knows, and the one path chat events and requests take."""
        self.closed_reason: str | None = None
        """Why the bot stopped for good (``"logout"``, ``"auth_failure"``, …), if it did."""
        self.replica_role: str | None = None
        """With ``storage_url``: ``"standby"``, ``"active"`` or ``"lost"`` (``replica.py``)."""
        self._connect = connect
        self._outbound_factory = outbound
        self._outbound: Outbound | None = None
        self._storage = storage
        self._owns_storage = storage is None
        self._ledger: Ledger | None = None
        self._account = ChatActor(self, None)
        self._track_visitors = config.smartsupp.track_visitors
        self._client: AgentClientLike | None = None
        self.account = AccountState()
        """The session and the other agents' statuses."""
        self._tg: anyio.abc.TaskGroup | None = None
        self._intake: anyio.CancelScope | None = None
        self._stopping = False
        self._prepared = False
        self._handles: dict[str, PluginBot] = {}
        self.background = BackgroundTasks(self.host.report_failure)
        self.speaker = Speaker(
            client=lambda: self._client,
            outbound=lambda: self.outbound,
            ledger=lambda: self.ledger,
            agent_id=lambda: self.agent_id,
            stats=self.stats,
            wall_clock=self.wall_clock,
            on_auth_failure=stop_on_rest_auth_failure(self),
        )
        self.visitors = VisitorDirectory(fetch=visitor_fetcher(self), clock=self.clock)
        """What the bot knows about visitors (``PluginBot.visitor``)."""
        self.loop_thread = threading.get_ident()
        """The thread of the event loop running the bot (set again by :meth:`run`)."""
        self.observer: BotMetrics | None = None
        """Where moments go that a metric needs (set by the ops endpoint, ``[server]``)."""

    # -- set-up ------------------------------------------------------------------------------

    def prepare(self) -> tuple[LoadedPlugin, ...]:
        """Load the plugins and validate their config (idempotent); return them in order.

        Raises :class:`~agentbot.errors.PluginError` or :class:`~agentbot.errors.ConfigError`.
        """
        if not self._prepared:
            self.host.load()
            self.host.validate_configs(self.handle_for)
            self._prepared = True
        return self.host.plugins

    def handle_for(self, plugin: LoadedPlugin) -> PluginBot:
        """Return the ``bot`` object a plugin's hooks receive."""
        handle = self._handles.get(plugin.name)
        if handle is None:
            handle = self._handles[plugin.name] = PluginBot(self, plugin)
        return handle

    def _open_storage(self) -> Storage:
        if self._storage is None:
            self._storage = open_storage(self.config)
            self._owns_storage = True
        return self._storage

    @property
    def ledger(self) -> Ledger:
        """The bot's durable chat memory (opened, and pruned past retention, on first use)."""
        if self._ledger is None:
            self._ledger = open_ledger(self, self._open_storage())
        return self._ledger

    @property
    def outbound(self) -> Outbound:
        """How the bot speaks and acts on chats (REST or socket, ``[smartsupp] send_via``)."""
        if self._outbound is None:
            self._outbound = (self._outbound_factory or default_outbound)(self)
        return self._outbound

    def plugin_storage(self, plugin: str) -> KeyValueStore:
        """Return ``plugin``'s key-value store (opening the database on first use)."""
        return self._open_storage().plugin_store(plugin)

    def make_client(self) -> AbstractAsyncContextManager[AgentClientLike]:
        """Build (not enter) the client: entering it connects and logs in."""
        return self._connect() if self._connect is not None else default_client(self)

    # -- running -----------------------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[Bot] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect, log in, and handle events until :meth:`stop`, cancellation or logout.

        Reports readiness (logged in, on_connected queued) through ``task_status``. Raises
        :class:`~agentbot.errors.AuthFailure` for a wrong key, and the config and plugin
        errors of :meth:`prepare`.
        """
        self.loop_thread = threading.get_ident()
        self.prepare()
        self.ledger  # noqa: B018 - open the store (and fail on a bad path) before logging in
        self.outbound  # noqa: B018 - a config error (send_via without a token) fails here
        grace = self.config.runtime.shutdown_grace_seconds
        stop_hooks_due = False
        try:
            await self.host.call("on_start", self.handle_for)
            stop_hooks_due = True
            connection = self.make_client()
            if hasattr(connection, "on_login_failure"):  # AgentClient: start and reconnects
                connection.on_login_failure = self._login_failed
            async with connection as client:
                self._client = client
                self.account.set_session(client.session)
                logger.info(
                    "logged in as agent %s; %d plugin(s): %s; replies over %s",
                    self.agent_id,
                    len(self.host.plugins),
                    ", ".join(p.name for p in self.host.plugins) or "none",
                    self.outbound.send_via,
                )
                try:
                    async with anyio.create_task_group() as tg:
                        self._tg = tg
                        self.background.open(tg)
                        self._session_up(first=True)
                        self._account.post(Incoming(SessionStarted(client.session)))
                        task_status.started(self)
                        with anyio.CancelScope() as intake:
                            self._intake = intake
                            if self._stopping:
                                intake.cancel()
                            async for event in client.events():
                                self._dispatch(event)
                        self._intake = None
                        if not self._stopping and client.closed_reason is not None:
                            self.closed_reason = client.closed_reason
                            logger.warning("the client stopped: %s", client.closed_reason)
                        # Stop taking work; each actor's finally sends typing false.
                        self._stopping = True
                        tg.cancel_scope.cancel()
                finally:
                    self._tg = None
                    self.background.close()
                    stop_hooks_due = False
                    with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
                        await self.host.call("on_stop", self.handle_for)
                    self._client = None
        finally:
            self.background.close()
            with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
                if stop_hooks_due:  # on_start ran but the login failed: let plugins clean up
                    await self.host.call("on_stop", self.handle_for)
                if self._outbound is not None:
                    await self._outbound.aclose()
            if self._owns_storage and self._storage is not None:
                self._storage.close()
                self._storage = None
                self._ledger = None
            logger.info("bot stopped (%s)", _format_stats(self.stats))

    def stop(self) -> None:
        """Ask the bot to shut down; returns at once, :meth:`run` returns when it is done."""
        if not self._stopping:
            logger.info("stopping: cancelling pending replies")
        self._stopping = True
        if self._intake is not None:
            self._intake.cancel()

    @property
    def accepting_work(self) -> bool:
        """Whether new messages may be queued (running, not shutting down)."""
        return self._tg is not None and not self._stopping

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (or the event stream ended)."""
        return self._stopping

    def _login_failed(self, reason: str) -> None:
        """Count a login that gave no session (``agentbot_login_failures_total``)."""
        self.stats["login_failures"] += 1
        if self.observer is not None:
            self.observer.login_failed(reason)

    def start_actor(self, actor: ChatActor) -> None:
        """Start ``actor``'s worker task in the bot's task group (called by the actor)."""
        if self._tg is None:
            actor.running = False
            return
        self._tg.start_soon(self._run_actor, actor, name=f"agentbot chat {actor.chat_id}")

    async def _run_actor(self, actor: ChatActor) -> None:
        CHAT_ID.set(actor.chat_id)  # this task's context: every log line names the chat
        try:
            await actor.run()
        except Exception:
            # A bug in the runtime must not take the other chats down.
            self.stats["actor_errors"] += 1
            logger.exception("chat %s: actor failed", actor.chat_id)

    def busy_actors(self) -> int:
        """How many actors (one per chat, plus the account's) are handling something now."""
        return self.chats.busy() + int(self._account.busy)

    @property
    def background_tasks(self) -> int:
        """How many plugin background tasks are running (started and not finished)."""
        return self.background.running

    def queue_limit(self, chat_id: str | None) -> int:
        """Return how many events may wait in one actor's inbox."""
        return self.config.runtime.chat_queue_size if chat_id is not None else ACCOUNT_QUEUE_LIMIT

    # -- sessions and the resync after each login ------------------------------------------

    def _session_up(self, *, first: bool) -> None:
        self.speaker.session_started()
        if self._tg is not None:
            run_resync = functools.partial(resync, first=first)
            self._tg.start_soon(run_resync, self, name="agentbot resync")

    # -- dispatch (synchronous: never waits) -------------------------------------------------

    def _dispatch(self, event: Any) -> None:
        self.stats["events"] += 1
        if self.observer is not None:
            self.observer.event(getattr(event, "name", type(event).__name__))
        if isinstance(event, Reconnected):
            self.stats["reconnects"] += 1
            self.account.set_session(event.session)
            logger.info(
                "reconnected as agent %s after %.1f s (attempt %d)",
                self.agent_id,
                event.downtime_seconds,
                event.attempt,
            )
            self._session_up(first=False)
        elif isinstance(event, ConnectionDropped):
            logger.warning("connection lost: %s; reconnecting", event.reason)
            self.speaker.link_lost()
        else:
            chat_id = chat_id_of(event)
            if chat_id is not None:
                self.chats.dispatch(chat_id, event)
                return
            if isinstance(event, ServerErrorEvent):
                logger.warning("server error: %s", event.as_error())
            elif isinstance(event, VisitorConnected):
                self.visitors.seen(event.visitor)
            elif isinstance(event, VisitorUpdated):
                self.visitors.updated(event.id, event.changes)
            self.account.apply(event)
        self.chats.post(self._account, Incoming(event))


def _format_stats(stats: collections.Counter[str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(stats.items())) or "no events"
