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
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.abc

from agentbot.api import (
    AccountAgent,
    AgentConnected,
    AgentConnectReply,
    AgentDisconnected,
    AgentUpdated,
    Chat,
    ChatMessageReceived,
    ChatOpened,
    Message,
    ServerErrorEvent,
    Visitor,
    VisitorConnected,
    VisitorGet,
    VisitorUpdated,
)
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.errors import AgentbotError
from agentbot.runtime.actors import ChatActor, Incoming, Resume, Say
from agentbot.runtime.background import BackgroundTasks
from agentbot.runtime.chat_state import Rules, Transition
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import BotConfig
from agentbot.runtime.dispatch import SessionStarted, chat_id_of, is_client_event, route_for
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.ledger import Ledger, OutboxEntry, namespace_for
from agentbot.runtime.limits import TokenBucket
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.plugins import LoadedPlugin, PluginHost
from agentbot.runtime.ports import AgentClientLike, ClientFactory
from agentbot.runtime.replies import Candidate, Reply, choose_reply
from agentbot.runtime.resync import replay_event, resync
from agentbot.runtime.speaker import Speaker
from agentbot.runtime.storage import KeyValueStore, Storage
from agentbot.runtime.visitors import NotConnected, VisitorDirectory

__all__ = ["MAX_TRACKED_CHATS", "Bot", "SessionStarted"]

logger = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
"""Chats kept in memory; past it the least recently active idle chats are forgotten (their
durable facts stay in the ledger and come back when the chat does)."""

ACCOUNT_QUEUE_LIMIT = 1024
"""Inbox bound of the account actor (visitor tracking can be chatty)."""

OutboundFactory = Callable[["Bot"], Outbound]


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    raise TypeError(f"expected agentbot.Reply or None, got {type(value).__name__}")


class Bot:
    """A Smartsupp chat bot: plugins + the rules of a careful human agent.

    ``config`` is the validated bot.toml. ``plugins`` are extra ``(name, object)`` plugins run
    in addition to the configured ones. ``connect`` builds the socket client (default: an
    :class:`agentbot.client.AgentClient` from ``[smartsupp]``) and ``outbound`` the transport
    for messages and chat actions (default: :class:`~agentbot.runtime.outbound.Outbound` from
    ``[smartsupp]``); ``clock`` drives pacing, rate limits and plugins' sleeps (default: the
    event loop's); ``wall_clock`` gives epoch seconds (plugins' ``bot.wall_time()``, the
    ledger's timestamps); ``storage`` replaces the SQLite file from config; ``entry_points``
    replaces the installed ``agentbot`` entry points (tests).
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
        self.chats: collections.OrderedDict[str, ChatActor] = collections.OrderedDict()
        self.closed_reason: str | None = None
        """Why the bot stopped for good (``"logout"``, ``"auth_failure"``, …), if it did."""
        self._connect = connect
        self._outbound_factory = outbound
        self._outbound: Outbound | None = None
        self._storage = storage
        self._owns_storage = storage is None
        self._ledger: Ledger | None = None
        self._account = ChatActor(self, None)
        self._track_visitors = config.smartsupp.track_visitors
        self._client: AgentClientLike | None = None
        self._session: AgentConnectReply | None = None
        self._agent_status: dict[str, str | None] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._intake: anyio.CancelScope | None = None
        self._stopping = False
        self._prepared = False
        self._synced = False
        self._ready_changed = anyio.Event()
        self._handles: dict[str, PluginBot] = {}
        self.background = BackgroundTasks(self.host.report_failure)
        self.speaker = Speaker(
            client=lambda: self._client,
            outbound=lambda: self.outbound,
            ledger=lambda: self.ledger,
            agent_id=lambda: self.agent_id,
            stats=self.stats,
            wall_clock=self.wall_clock,
            on_auth_failure=self._rest_auth_failed,
        )
        self.visitors = VisitorDirectory(fetch=self._fetch_visitor, clock=self.clock)
        """What the bot knows about visitors (``PluginBot.visitor``)."""

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
            self._storage = Storage(
                self.config.resolved_storage_path(),
                on_error=self.config.runtime.on_storage_error,
            )
            self._owns_storage = True
        return self._storage

    @property
    def ledger(self) -> Ledger:
        """The bot's durable chat memory (opened, and pruned past retention, on first use)."""
        if self._ledger is None:
            settings = self.config.smartsupp
            namespace = namespace_for(settings.url, settings.agent_id, settings.key)
            self._ledger = Ledger(self._open_storage(), namespace, wall_clock=self.wall_clock)
            runtime = self.config.runtime
            removed = self._ledger.expire(
                closed_after_seconds=runtime.chat_state_retention_days * 86400,
                idle_after_seconds=runtime.seen_retention_days * 86400,
            )
            if removed:
                logger.debug("forgot %d ledger rows past retention", removed)
        return self._ledger

    @property
    def outbound(self) -> Outbound:
        """How the bot speaks and acts on chats (REST or socket, ``[smartsupp] send_via``)."""
        if self._outbound is None:
            if self._outbound_factory is not None:
                self._outbound = self._outbound_factory(self)
            else:
                self._outbound = Outbound(
                    self.config.smartsupp,
                    lambda: self.client,
                    agent_id=lambda: self.agent_id,
                    sleep=self._clock_sleep,
                    wall_clock=self.wall_clock,
                )
        return self._outbound

    async def _clock_sleep(self, seconds: float) -> None:
        await self.clock.sleep_until(self.clock.now() + seconds)

    def plugin_storage(self, plugin: str) -> KeyValueStore:
        """Return ``plugin``'s key-value store (opening the database on first use)."""
        return self._open_storage().plugin_store(plugin)

    def make_client(self) -> AbstractAsyncContextManager[AgentClientLike]:
        """Build (not enter) the client: entering it connects and logs in."""
        if self._connect is not None:
            return self._connect()
        from agentbot.client import AgentClient

        settings = self.config.smartsupp
        client: AbstractAsyncContextManager[AgentClientLike] = AgentClient(
            settings.url,
            agent_id=settings.agent_id,
            key=settings.key,
            auth_token=settings.auth_token,
            eio=settings.eio,
            track_visitors=self._track_visitors,
            max_frame_bytes=settings.max_frame_bytes,
        )
        return client

    # -- running -----------------------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[Bot] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect, log in, and handle events until :meth:`stop`, cancellation or logout.

        Reports readiness (logged in, on_connected queued) through ``task_status``. Raises
        :class:`~agentbot.errors.AuthFailure` for a wrong key, and the config and plugin
        errors of :meth:`prepare`.
        """
        self.prepare()
        self.ledger  # noqa: B018 - open the store (and fail on a bad path) before logging in
        self.outbound  # noqa: B018 - a config error (send_via without a token) fails here
        grace = self.config.runtime.shutdown_grace_seconds
        stop_hooks_due = False
        try:
            await self.host.call("on_start", self.handle_for)
            stop_hooks_due = True
            async with self.make_client() as client:
                self._client = client
                self._set_session(client.session)
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
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (or the event stream ended)."""
        return self._stopping

    def _rest_auth_failed(self, exc: AgentbotError) -> None:
        logger.error(
            "the REST API refused the credential (%s): check [smartsupp] api_token "
            "(AGENTBOT_API_TOKEN) and api_auth; stopping",
            exc,
        )
        self.closed_reason = "rest_auth_failure"
        self.stop()

    def start_actor(self, actor: ChatActor) -> None:
        """Start ``actor``'s worker task in the bot's task group (called by the actor)."""
        if self._tg is None:
            actor.running = False
            return
        self._tg.start_soon(self._run_actor, actor, name=f"agentbot chat {actor.chat_id}")

    async def _run_actor(self, actor: ChatActor) -> None:
        try:
            await actor.run()
        except Exception:
            # A bug in the runtime must not take the other chats down.
            self.stats["actor_errors"] += 1
            logger.exception("chat %s: actor failed", actor.chat_id)

    def start_background(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        *,
        plugin: str,
        name: str | None = None,
    ) -> None:
        """Run ``await fn(*args)`` in the bot's task group (see :meth:`PluginBot.start_soon`)."""
        self.background.start(fn, args, plugin=plugin, name=name, stopping=self._stopping)

    def busy_actors(self) -> int:
        """How many actors (one per chat, plus the account's) are handling something now."""
        return sum(1 for actor in [*self.chats.values(), self._account] if actor.busy)

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
        self._synced = False
        self._notify_ready()
        if self._tg is not None:
            self._tg.start_soon(_resync, self, first, name="agentbot resync")

    def mark_synced(self) -> None:
        """The resync after a login is done: actors may send (called by resync)."""
        self._synced = True
        self._notify_ready()

    @property
    def synced(self) -> bool:
        """Whether the resync after the latest login is done."""
        return self._synced

    def _notify_ready(self) -> None:
        self._ready_changed.set()
        self._ready_changed = anyio.Event()

    async def wait_ready_to_speak(self) -> None:
        """Wait until a session is up and its resync done."""
        while not (self.speaker.link_up and self._synced):
            await self._ready_changed.wait()

    # -- dispatch (synchronous: never waits) -------------------------------------------------

    def _dispatch(self, event: Any) -> None:
        self.stats["events"] += 1
        if isinstance(event, Reconnected):
            self._set_session(event.session)
            logger.info(
                "reconnected as agent %s after %.1f s (attempt %d)",
                self.agent_id,
                event.downtime_seconds,
                event.attempt,
            )
            self._session_up(first=False)
            self._post(self._account, Incoming(event))
            return
        if isinstance(event, ConnectionDropped):
            logger.warning("connection lost: %s; reconnecting", event.reason)
            self.speaker.link_lost()
            self._notify_ready()
            self._post(self._account, Incoming(event))
            return
        chat_id = chat_id_of(event)
        if chat_id is None:
            self._apply_account_event(event)
            self._post(self._account, Incoming(event))
            return
        actor = self.actor(chat_id)
        self._post(actor, self._apply_chat_event(actor, event))

    def _post(self, actor: ChatActor, item: Incoming | Say | Resume) -> None:
        if not actor.post(item):
            self.stats["dropped_events"] += 1
            logger.warning(
                "chat %s: inbox full (%d); dropping %s",
                actor.chat_id,
                self.queue_limit(actor.chat_id),
                type(item.event).__name__ if isinstance(item, Incoming) else "a message",
            )

    def actor(self, chat_id: str) -> ChatActor:
        """Return the actor of ``chat_id``, created (with its stored facts) if needed."""
        actor = self.chats.get(chat_id)
        if actor is not None:
            self.chats.move_to_end(chat_id)
            return actor
        actor = self.chats[chat_id] = ChatActor(self, chat_id, self.ledger.load_chat(chat_id))
        if len(self.chats) > MAX_TRACKED_CHATS:
            for old_id in list(self.chats)[:16]:
                if len(self.chats) <= MAX_TRACKED_CHATS:
                    break
                if not self.chats[old_id].busy:
                    del self.chats[old_id]
        return actor

    @property
    def _rules(self) -> Rules:
        runtime = self.config.runtime
        return Rules(
            agent_id=self.agent_id,
            human_first=runtime.human_first,
            resume_after_human_leaves=runtime.resume_after_human_leaves,
        )

    def _apply_chat_event(self, actor: ChatActor, event: Any) -> Incoming:
        """Apply ``event`` to the chat's state at once; say whether it needs an answer."""
        transition = actor.state.apply(event, self._rules, now=self.wall_clock())
        if not isinstance(event, ChatMessageReceived):
            self._after(actor, transition)
            return Incoming(event)
        message = event.message
        if transition.own:
            self.speaker.echoed(actor.chat_id or "", message)
            return Incoming(event, message)
        answer = transition.answer
        if message.is_from_visitor:
            if not self.ledger.receive(message.id, actor.chat_id or "", message.text or ""):
                self.stats["duplicates"] += 1
                logger.warning(
                    "chat %s: message %s seen before in %r; not answering",
                    actor.chat_id,
                    message.id,
                    self.ledger,
                )
                return Incoming(event, message)
            logger.debug("chat %s: visitor wrote %r", actor.chat_id, message.text)
            if not answer:
                self.stats["not_answered_quiet"] += 1
                self.ledger.decide(message.id, "quiet")
        self._after(actor, transition)
        return Incoming(event, message, answer=answer)

    def _after(self, actor: ChatActor, transition: Transition) -> None:
        if transition.note:
            logger.info("chat %s: %s", actor.chat_id, transition.note)
        if transition.persist and actor.chat_id is not None:
            self.ledger.save_chat(actor.state)
        if transition.silence:
            actor.silence()

    def _apply_account_event(self, event: Any) -> None:
        if isinstance(event, AgentConnected) and event.id:
            self._agent_status[event.id] = "online"
        elif isinstance(event, AgentDisconnected) and event.id:
            self._agent_status[event.id] = "offline"
        elif isinstance(event, AgentUpdated) and "status" in event.changes:
            status = event.changes["status"]
            self._agent_status[event.id] = status if isinstance(status, str) else None
        elif isinstance(event, ServerErrorEvent):
            logger.warning("server error: %s", event.as_error())
        elif isinstance(event, VisitorConnected):
            self.visitors.seen(event.visitor)
        elif isinstance(event, VisitorUpdated):
            self.visitors.updated(event.id, event.changes)

    def _set_session(self, session: AgentConnectReply | None) -> None:
        self._session = session
        if session is not None:
            self._agent_status = {agent.id: agent.status for agent in session.account.agents}

    # -- what resync tells the bot -----------------------------------------------------------

    def known_chat_ids(self) -> set[str]:
        """Chats the bot believes open: in memory, and stored as open in the ledger."""
        in_memory = {chat_id for chat_id, actor in self.chats.items() if not actor.state.closed}
        return in_memory | set(self.ledger.known_open_chats())

    def learn(
        self,
        chat_id: str,
        *,
        closed: bool | None = None,
        humans: set[str] | frozenset[str] = frozenset(),
        visitor_id: str | None = None,
    ) -> None:
        """Reconcile one chat with what the server says (resync)."""
        actor = self.actor(chat_id)
        if visitor_id and not actor.state.visitor_id:
            actor.state.visitor_id = visitor_id
        self._after(actor, actor.state.learn(closed=closed, humans=humans, rules=self._rules))

    def replay(self, message: Message, *, fresh: bool = False) -> None:
        """Handle a visitor message again (recovered after a restart) or for the first time
        (``fresh``: missed while away; deduplicated like any other)."""
        event = replay_event(message)
        if fresh:
            self._dispatch(event)
            return
        actor = self.actor(message.chat_id or "")
        self._post(actor, Incoming(event, message, answer=actor.may_send()))

    def resume_entries(self, actor: ChatActor, entries: Sequence[OutboxEntry]) -> None:
        """Give unsettled outbox entries from before a restart back to their chat's actor."""
        self._post(actor, Resume(tuple(entries)))

    def note_spoke(self, actor: ChatActor, plugin: str | None, length: int) -> None:
        """A message reached the chat (called by the actor)."""
        logger.info("chat %s: sent %d chars from %s", actor.chat_id, length, plugin or "the bot")
        self._after(actor, actor.state.spoke())

    # -- hooks (called by actors) ------------------------------------------------------------

    async def run_event_hooks(self, actor: ChatActor, event: Any) -> None:
        """Run ``on_event`` and the event's own hook from the dispatch table."""
        if not is_client_event(event):
            await self.host.call("on_event", self.handle_for, event=event, chat_id=actor.chat_id)
        route = route_for(event)
        if route is None:
            return
        arguments = route.arguments(event, self.agent_id)
        if arguments is None:
            return
        if route.chat_scoped:
            arguments = {**arguments, "chat_id": actor.chat_id}
        if isinstance(event, ChatOpened) and arguments.get("chat") is None:
            arguments = {**arguments, "chat": Chat(id=actor.chat_id or "")}
        await self.host.call(route.hook, self.handle_for, **arguments)

    async def choose_answer(
        self, actor: ChatActor, message: Message, text: str, event: Any
    ) -> Candidate | None:
        """Ask every plugin for a reply to ``message``; return the best candidate, if any.

        Then tell every plugin the choice (``on_reply_chosen``), unless the chat went quiet.
        """
        results = await self.host.call(
            "on_visitor_message",
            self.handle_for,
            validate=_as_reply,
            chat_id=actor.chat_id,
            message=message,
            text=text,
            event=event,
        )
        candidates = [Candidate(r.plugin.name, r.plugin.rank, r.value) for r in results]
        chosen = choose_reply(candidates, min_confidence=self.config.runtime.min_confidence)
        if chosen is not None:
            logger.debug(
                "chat %s: answering message %s with %s's reply (confidence %.2f, %d candidate(s))",
                actor.chat_id,
                message.id,
                chosen.plugin,
                chosen.reply.confidence,
                len(candidates),
            )
        else:
            logger.debug("chat %s: no plugin answered message %s", actor.chat_id, message.id)
        if actor.may_send():
            await self.host.call(
                "on_reply_chosen",
                self.handle_for,
                chat_id=actor.chat_id,
                message=message,
                text=text,
                reply=chosen.reply if chosen is not None else None,
                plugin=chosen.plugin if chosen is not None else None,
            )
        return chosen

    # -- the plugin-facing API (see PluginBot) -----------------------------------------------

    @property
    def agent_id(self) -> str:
        """The bot's own agent id."""
        if self._session is not None:
            return self._session.agent.id
        return self.config.smartsupp.agent_id

    @property
    def client(self) -> AgentClientLike | None:
        """The live socket client, or None while not logged in (for an ``Outbound``)."""
        return self._client

    @property
    def session(self) -> AgentConnectReply | None:
        """The current session, or None while not connected."""
        return self._session

    @property
    def agents(self) -> tuple[AccountAgent, ...]:
        """The account's agents from the session."""
        return tuple(self._session.account.agents) if self._session is not None else ()

    def humans_online(self) -> tuple[str, ...]:
        """Return the ids of other agents whose last known status is online."""
        return tuple(
            agent_id
            for agent_id, status in self._agent_status.items()
            if status == "online" and agent_id != self.agent_id
        )

    @property
    def track_visitors(self) -> bool:
        """The wanted ``agent.track_visitors`` value; the client applies it on every connection."""
        return self._track_visitors

    @track_visitors.setter
    def track_visitors(self, enabled: bool) -> None:
        enabled = bool(enabled)
        if enabled != self._track_visitors:
            logger.info("track_visitors set to %s", enabled)
        self._track_visitors = enabled
        if self._client is not None:
            self._client.set_track_visitors(enabled)

    def say(self, chat_id: str, text: str, *, plugin: str | None = None) -> bool:
        """Queue a paced message into a known chat (see :meth:`PluginBot.say`)."""
        actor = self.chats.get(chat_id)
        if actor is None or self._tg is None or self._stopping or not actor.may_send():
            return False
        if not text.strip():
            return False
        return actor.post(Say(text, plugin))

    def hand_off(
        self, chat_id: str, *, message: str | None = None, plugin: str | None = None
    ) -> bool:
        """Mark a chat handed off: cancel the pending answer, optionally say goodbye."""
        actor = self.chats.get(chat_id)
        if actor is None or actor.state.closed:
            return False
        self._after(actor, actor.state.hand_off())
        if message and message.strip() and self._tg is not None and not self._stopping:
            actor.post(Say(message, plugin, handoff=True))
        return True

    def pause(self, chat_id: str, *, plugin: str | None = None) -> bool:
        """Keep the bot quiet in a chat without a hand-off (see :meth:`PluginBot.pause`)."""
        actor = self.chats.get(chat_id)
        if actor is None or actor.state.closed:
            return False
        self._after(actor, actor.state.pause())
        return True

    def resume(self, chat_id: str, *, plugin: str | None = None) -> bool:
        """Undo a hand-off or pause: the bot may answer again (see PluginBot.resume)."""
        actor = self.chats.get(chat_id)
        if actor is None or actor.state.closed or actor.state.human_active:
            return False
        self._after(actor, actor.state.resume())
        return True

    async def visitor(self, visitor_id: str) -> Visitor | None:
        """Return the latest known details of a visitor (see :meth:`PluginBot.visitor`)."""
        return await self.visitors.lookup(visitor_id)

    async def _fetch_visitor(self, visitor_id: str) -> Any:
        client = self._client
        if client is None:
            raise NotConnected("not connected")
        return await client.request(
            VisitorGet(id=visitor_id), timeout=self.visitors.timeout_seconds
        )

    def is_quiet(self, chat_id: str) -> bool:
        """Return whether the bot stays quiet in ``chat_id``."""
        actor = self.chats.get(chat_id)
        return actor is not None and not actor.may_send()


async def _resync(bot: Bot, first: bool) -> None:
    await resync(bot, first=first)


def _format_stats(stats: collections.Counter[str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(stats.items())) or "no events"
