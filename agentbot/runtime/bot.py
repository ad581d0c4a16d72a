"""The Bot: reads the event stream, keeps each chat's state, and runs the plugins.

One task reads events from the client and dispatches them without waiting: it updates the
chat's state at once (so "a human joined" silences the bot immediately, before any hook
runs) and hands the event to that chat's actor (:mod:`agentbot.runtime.actors`), which runs
the hooks and the paced send sequence. Account-wide events (visitors, agents, errors,
reconnects) go to one account actor, so their hooks run in order too.

The rules that make the bot a careful colleague live here:

* it answers only visitor messages (``subType`` ``"contact"``): never its own messages
  (the server echoes them back; recognised by agent id and by the ids of messages it sent),
  never another agent's — an agent message from anyone else means a human is writing there,
  and with ``human_first`` the bot goes quiet in that chat;
* never the same visitor message id twice (ids kept in SQLite across restarts);
* never after the chat closed (``chat.closed``, ``chat.visitor_closed``, ``chat.deleted``);
* a human joining or being assigned silences it too (``human_first``, default on); with
  ``resume_after_human_leaves`` it answers again once the last such human left.

Shutdown (:meth:`Bot.stop`, or cancelling :meth:`Bot.run`): stop reading events, cancel the
actors (each sends ``chat.typing`` false for a reply in progress), run ``on_stop``, close the
client, close storage — all within ``[runtime] shutdown_grace_seconds``.
"""

from __future__ import annotations

import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.abc
import attrs

from agentbot.api import (
    AccountAgent,
    AgentAssigned,
    AgentConnected,
    AgentConnectReply,
    AgentDisconnected,
    AgentJoined,
    AgentLeft,
    AgentUnassigned,
    AgentUpdated,
    ChatClosed,
    ChatDeleted,
    ChatMessage,
    ChatMessageReceived,
    ChatOpened,
    ChatRated,
    ChatTyping,
    ChatVisitorClosed,
    ChatVisitorTyping,
    Message,
    ServerErrorEvent,
    Visitor,
    VisitorConnected,
    VisitorGet,
    VisitorUpdated,
)
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.errors import AgentbotError, PluginError
from agentbot.runtime.actors import ChatActor, Incoming, Say, detach_from_events
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import BotConfig
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.limits import TokenBucket
from agentbot.runtime.plugins import LoadedPlugin, PluginHost
from agentbot.runtime.ports import AgentClientLike, ClientFactory
from agentbot.runtime.replies import Candidate, Reply, choose_reply
from agentbot.runtime.storage import KeyValueStore, Storage
from agentbot.runtime.visitors import NotConnected, VisitorDirectory

__all__ = ["MAX_TRACKED_CHATS", "Bot", "SessionStarted"]

logger = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
"""Chats whose state is kept; past it the least recently active idle chats are forgotten."""

ACCOUNT_QUEUE_LIMIT = 1024
"""Inbox bound of the account actor (visitor tracking can be chatty)."""

_OWN_MESSAGE_IDS = 4096
_CLOSING_EVENTS = (ChatClosed, ChatVisitorClosed, ChatDeleted)


@attrs.frozen
class SessionStarted:
    """Internal event: the first session is up (drives ``on_connected(reconnect=False)``)."""

    session: Any


def chat_id_of(event: Any) -> str | None:
    """Return the chat an event belongs to, or None for account-wide events."""
    if isinstance(event, ChatOpened):
        return event.chat.id
    chat_id = getattr(event, "chat_id", None)
    return chat_id if isinstance(chat_id, str) else None


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    raise TypeError(f"expected agentbot.Reply or None, got {type(value).__name__}")


class Bot:
    """A Smartsupp chat bot: plugins + the rules of a careful human agent.

    ``config`` is the validated bot.toml. ``plugins`` are extra ``(name, object)`` plugins
    run in addition to the configured ones. ``connect`` builds the client (default: an
    :class:`agentbot.client.AgentClient` from ``[smartsupp]``); ``clock`` drives pacing, rate
    limits and plugins' sleeps (default: the event loop's); ``wall_clock`` gives epoch seconds
    to plugins (``bot.wall_time()``; default :func:`time.time`, a test passes e.g.
    ``lambda: EPOCH + virtual_clock.now()``); ``storage`` replaces the SQLite file from
    config; ``entry_points`` replaces the installed ``agentbot`` entry points (tests).
    """

    def __init__(
        self,
        config: BotConfig,
        *,
        plugins: Sequence[tuple[str, object]] = (),
        connect: ClientFactory | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] | None = None,
        storage: Storage | None = None,
        entry_points: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock if clock is not None else RealClock()
        self.wall_clock: Callable[[], float] = wall_clock if wall_clock is not None else time.time
        """Epoch seconds for plugins (``PluginBot.wall_time``): dates, opening hours."""
        self.host = PluginHost(config, extra=plugins, entry_points=entry_points)
        self.stats: collections.Counter[str] = collections.Counter()
        """Counts of what happened: events, replies sent, duplicates, cancellations, …"""
        self.rate_limiter = TokenBucket(
            rate=config.runtime.max_messages_per_second,
            burst=config.runtime.message_burst,
            clock=self.clock,
        )
        self.chats: collections.OrderedDict[str, ChatActor] = collections.OrderedDict()
        self.closed_reason: str | None = None
        """Why the client stopped for good (``"logout"``, ``"auth_failure"``, …), if it did."""
        self._connect = connect
        self._storage = storage
        self._owns_storage = storage is None
        self._account = ChatActor(self, None)
        self._track_visitors = config.smartsupp.track_visitors
        self._client: AgentClientLike | None = None
        self._session: AgentConnectReply | None = None
        self._agent_status: dict[str, str | None] = {}
        self._own_ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._tg: anyio.abc.TaskGroup | None = None
        self._intake: anyio.CancelScope | None = None
        self._stopping = False
        self._prepared = False
        self._handles: dict[str, PluginBot] = {}
        # Plugin background tasks (PluginBot.start_soon): queued until the task group exists,
        # refused once it is gone ("queue" → "run" → "closed").
        self._tasks_state = "queue"
        self._queued_tasks: list[_Background] = []
        self._background_running = 0
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
            removed = self._storage.seen.prune(
                older_than_seconds=self.config.runtime.seen_retention_days * 86400
            )
            if removed:
                logger.debug("forgot %d answered message ids past retention", removed)
        return self._storage

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

        Reports readiness (logged in, on_connected queued) through ``task_status`` so a
        caller can ``await task_group.start(bot.run)``. Raises
        :class:`~agentbot.errors.AuthFailure` for a wrong key, and the config and plugin
        errors of :meth:`prepare`.
        """
        self.prepare()
        self._open_storage()
        grace = self.config.runtime.shutdown_grace_seconds
        stop_hooks_due = False
        try:
            await self.host.call("on_start", self.handle_for)
            stop_hooks_due = True
            async with self.make_client() as client:
                self._client = client
                self._set_session(client.session)
                logger.info(
                    "logged in as agent %s; %d plugin(s): %s",
                    self.agent_id,
                    len(self.host.plugins),
                    ", ".join(p.name for p in self.host.plugins) or "none",
                )
                try:
                    async with anyio.create_task_group() as tg:
                        self._tg = tg
                        self._start_queued_tasks(tg)
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
                    self._tasks_state = "closed"
                    stop_hooks_due = False
                    with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
                        await self.host.call("on_stop", self.handle_for)
                    self._client = None
        finally:
            self._tasks_state = "closed"
            self._queued_tasks.clear()
            if stop_hooks_due:  # on_start ran but the login failed: still let plugins clean up
                with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
                    await self.host.call("on_stop", self.handle_for)
            if self._owns_storage and self._storage is not None:
                self._storage.close()
                self._storage = None
            logger.info("bot stopped (%s)", _format_stats(self.stats))

    def stop(self) -> None:
        """Ask the bot to shut down: stop reading events, cancel pending replies, close.

        Returns at once; :meth:`run` returns when the shutdown is done.
        """
        if not self._stopping:
            logger.info("stopping: cancelling pending replies")
        self._stopping = True
        if self._intake is not None:
            self._intake.cancel()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (or the event stream ended)."""
        return self._stopping

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

    # -- plugin background tasks -----------------------------------------------------------

    def start_background(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        *,
        plugin: str,
        name: str | None = None,
    ) -> None:
        """Run ``await fn(*args)`` in the bot's task group (see :meth:`PluginBot.start_soon`).

        Queued while the task group does not exist yet (``on_start``), refused (logged) once
        the bot is shutting down. Raises :class:`~agentbot.errors.PluginError` if ``fn`` is
        not callable.
        """
        if not callable(fn):
            raise PluginError(
                f"plugin {plugin!r}: start_soon() needs an async function, got {type(fn).__name__}",
                plugin=plugin,
            )
        label = name or getattr(fn, "__qualname__", None) or repr(fn)
        task = _Background(fn, args, plugin, label)
        if self._tasks_state == "closed" or self._stopping:
            logger.warning("plugin %s: not starting task %r: the bot is stopping", plugin, label)
        elif self._tg is None:
            self._queued_tasks.append(task)
        else:
            self._spawn(self._tg, task)

    def busy_actors(self) -> int:
        """How many actors (one per chat, plus the account's) are handling something now.

        For a test harness deciding whether the bot has settled (with
        :attr:`background_tasks` and the clock's sleepers).
        """
        actors = [*self.chats.values(), self._account]
        return sum(1 for actor in actors if actor.busy)

    @property
    def background_tasks(self) -> int:
        """How many plugin background tasks are running (started and not finished).

        For a test harness deciding whether the bot has settled: such a task is either
        asleep on the clock or still working.
        """
        return self._background_running

    def _start_queued_tasks(self, tg: anyio.abc.TaskGroup) -> None:
        self._tasks_state = "run"
        queued, self._queued_tasks = self._queued_tasks, []
        for task in queued:
            self._spawn(tg, task)

    def _spawn(self, tg: anyio.abc.TaskGroup, task: _Background) -> None:
        # Counted from now, not from the task's first step: a harness looking right after
        # start_soon() must not see an idle bot.
        self._background_running += 1
        tg.start_soon(self._run_background, task, name=f"agentbot {task.plugin}: {task.label}")

    async def _run_background(self, task: _Background) -> None:
        detach_from_events()  # a say() from this task belongs to no event's hooks
        try:
            awaitable = task.fn(*task.args)
            if not inspect.isawaitable(awaitable):
                raise TypeError(
                    f"{task.label} returned {type(awaitable).__name__}, not an awaitable: "
                    "pass an async function"
                )
            await awaitable
        except Exception as exc:
            self.host.report_failure(task.plugin, f"background task {task.label!r} failed", exc)
        finally:
            self._background_running -= 1

    def queue_limit(self, chat_id: str | None) -> int:
        """Return how many events may wait in one actor's inbox."""
        return self.config.runtime.chat_queue_size if chat_id is not None else ACCOUNT_QUEUE_LIMIT

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
            self._post(self._account, Incoming(event))
            return
        if isinstance(event, ConnectionDropped):
            logger.warning("connection lost: %s; reconnecting", event.reason)
            self._post(self._account, Incoming(event))
            return
        chat_id = chat_id_of(event)
        if chat_id is None:
            self._apply_account_event(event)
            self._post(self._account, Incoming(event))
            return
        actor = self._actor(chat_id)
        self._post(actor, self._apply_chat_event(actor, event))

    def _post(self, actor: ChatActor, item: Incoming | Say) -> None:
        if not actor.post(item):
            self.stats["dropped_events"] += 1
            logger.warning(
                "chat %s: inbox full (%d); dropping %s",
                actor.chat_id,
                self.queue_limit(actor.chat_id),
                type(item.event).__name__ if isinstance(item, Incoming) else "a message",
            )

    def _actor(self, chat_id: str) -> ChatActor:
        actor = self.chats.get(chat_id)
        if actor is not None:
            self.chats.move_to_end(chat_id)
            return actor
        actor = self.chats[chat_id] = ChatActor(self, chat_id)
        if len(self.chats) > MAX_TRACKED_CHATS:
            for old_id in list(self.chats)[:16]:
                if len(self.chats) <= MAX_TRACKED_CHATS:
                    break
                if not self.chats[old_id].busy:
                    del self.chats[old_id]
        return actor

    def _apply_chat_event(self, actor: ChatActor, event: Any) -> Incoming:
        """Update the chat's state from ``event`` at once; say whether it needs an answer."""
        if isinstance(event, ChatMessageReceived):
            return self._apply_message(actor, event)
        if isinstance(event, ChatOpened):
            actor.visitor_id = event.chat.visitor_id or actor.visitor_id
            if actor.closed:
                logger.info("chat %s: reopened", actor.chat_id)
            actor.closed = False
            others = set(event.chat.assigned_ids) - {self.agent_id}
            if others:
                self._human_in(actor, others, "is assigned")
        elif isinstance(event, _CLOSING_EVENTS):
            if not actor.closed:
                logger.info("chat %s: closed (%s)", actor.chat_id, type(event).__name__)
            actor.closed = True
            actor.silence()
        elif isinstance(event, AgentJoined):
            if event.agent.id != self.agent_id:
                self._human_in(actor, {event.agent.id}, "joined")
        elif isinstance(event, AgentAssigned):
            others = set(event.assigned_ids) - {self.agent_id}
            if others:
                self._human_in(actor, others, "was assigned")
        elif isinstance(event, AgentLeft):
            self._human_out(actor, {event.agent.id})
        elif isinstance(event, AgentUnassigned):
            self._human_out(actor, set(event.unassigned_ids))
        elif isinstance(event, ChatVisitorTyping) and event.visitor_id:
            actor.visitor_id = actor.visitor_id or event.visitor_id
        return Incoming(event)

    def _apply_message(self, actor: ChatActor, event: ChatMessageReceived) -> Incoming:
        message = event.message
        if message.is_from_visitor:
            if message.visitor_id:
                actor.visitor_id = message.visitor_id
            if not self._open_storage().seen.reserve(message.id):
                self.stats["duplicates"] += 1
                logger.warning(
                    "chat %s: message %s seen before in %r; not answering",
                    actor.chat_id,
                    message.id,
                    self._storage,
                )
                return Incoming(event, message)
            logger.debug("chat %s: visitor wrote %r", actor.chat_id, message.text)
            if not actor.may_send():
                self.stats["not_answered_quiet"] += 1
                return Incoming(event, message)
            return Incoming(event, message, answer=True)
        if message.is_from_agent:
            if self._is_own(message):
                return Incoming(event, message)
            if message.agent_id:
                self._human_in(actor, {message.agent_id}, "wrote")
        return Incoming(event, message)

    def _is_own(self, message: Message) -> bool:
        return message.agent_id == self.agent_id or message.id in self._own_ids

    def _human_in(self, actor: ChatActor, agent_ids: set[str], how: str) -> None:
        actor.humans = (actor.humans or set()) | agent_ids
        if not self.config.runtime.human_first or actor.human_active:
            return
        actor.human_active = True
        logger.info(
            "chat %s: agent %s %s; the bot steps back",
            actor.chat_id,
            ", ".join(sorted(agent_ids)),
            how,
        )
        actor.silence()

    def _human_out(self, actor: ChatActor, agent_ids: set[str]) -> None:
        if actor.humans:
            actor.humans -= agent_ids
        if (
            actor.human_active
            and not actor.humans
            and self.config.runtime.resume_after_human_leaves
        ):
            actor.human_active = False
            logger.info("chat %s: the last human left; the bot answers again", actor.chat_id)

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

    # -- hooks (called by actors) ------------------------------------------------------------

    async def run_event_hooks(self, actor: ChatActor, event: Any) -> None:
        """Run ``on_event`` and the event's specific hook (not ``on_visitor_message``)."""
        call = self.host.call
        bot_for = self.handle_for
        chat_id = actor.chat_id
        if isinstance(event, SessionStarted):
            await call("on_connected", bot_for, session=event.session, reconnect=False)
            return
        if isinstance(event, Reconnected):
            await call("on_connected", bot_for, session=event.session, reconnect=True)
            return
        if isinstance(event, ConnectionDropped):
            await call("on_disconnected", bot_for, reason=event.reason)
            return
        await call("on_event", bot_for, event=event, chat_id=chat_id)
        if chat_id is not None:
            await self._chat_hooks(actor, chat_id, event)
        elif isinstance(event, VisitorConnected):
            await call("on_visitor_connected", bot_for, visitor=event.visitor, event=event)
        elif isinstance(event, VisitorUpdated):
            await call(
                "on_visitor_updated",
                bot_for,
                visitor_id=event.id,
                changes=event.changes,
                event=event,
            )
        elif isinstance(event, ServerErrorEvent):
            await call("on_server_error", bot_for, error=event.as_error(), event=event)

    async def _chat_hooks(self, actor: ChatActor, chat_id: str, event: Any) -> None:
        call = self.host.call
        bot_for = self.handle_for
        if isinstance(event, ChatOpened):
            await call("on_chat_opened", bot_for, chat_id=chat_id, chat=event.chat, event=event)
        elif isinstance(event, _CLOSING_EVENTS):
            close_type = getattr(event, "close_type", None)
            if isinstance(event, ChatVisitorClosed):
                close_type = "visitor_close"
            await call(
                "on_chat_closed", bot_for, chat_id=chat_id, close_type=close_type, event=event
            )
        elif isinstance(event, ChatVisitorTyping):
            await call(
                "on_visitor_typing",
                bot_for,
                chat_id=chat_id,
                is_typing=event.typing.is_typing,
                event=event,
            )
        elif isinstance(event, ChatRated):
            await call("on_chat_rated", bot_for, chat_id=chat_id, rating=event.rating, event=event)
        elif isinstance(event, AgentJoined):
            if event.agent.id != self.agent_id:
                await call(
                    "on_agent_joined", bot_for, chat_id=chat_id, agent=event.agent, event=event
                )
        elif isinstance(event, AgentLeft):
            if event.agent.id != self.agent_id:
                await call(
                    "on_agent_left", bot_for, chat_id=chat_id, agent=event.agent, event=event
                )
        elif isinstance(event, AgentAssigned):
            await call(
                "on_agent_assigned",
                bot_for,
                chat_id=chat_id,
                agent_ids=event.assigned_ids,
                event=event,
            )

    async def choose_answer(
        self, actor: ChatActor, message: Message, text: str, event: Any
    ) -> Candidate | None:
        """Ask every plugin for a reply to ``message``; return the best candidate, if any.

        Then tell every plugin the choice (``on_reply_chosen``), unless the chat went quiet
        meanwhile.
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

    # -- the wire (called by actors) ---------------------------------------------------------

    async def send_typing(self, chat_id: str, visitor_id: str | None, on: bool) -> None:
        """Send ``chat.typing``; errors are logged, never raised (typing is best effort)."""
        client = self._client
        if client is None or visitor_id is None:
            return
        try:
            await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=on))
        except AgentbotError as exc:
            self.stats["typing_failed"] += 1
            logger.warning("chat %s: could not send typing %s: %s", chat_id, on, exc)

    async def send_chat_message(
        self, chat_id: str, visitor_id: str | None, text: str, *, answers: str | None = None
    ) -> bool:
        """Send one ``chat.message``; return whether the server accepted it.

        ``answers`` is the visitor message id this message answers: it is stored as answered
        (durably, across restarts) before the request leaves. A failed send is logged and
        not retried: a chat message must never go out twice.
        """
        client = self._client
        if client is None:
            return False
        if visitor_id is None:
            logger.warning("chat %s: visitor unknown; cannot send", chat_id)
            return False
        if answers is not None:
            self._open_storage().seen.add(answers)
        try:
            stored = await client.request(
                ChatMessage(chat_id=chat_id, visitor_id=visitor_id, text=text)
            )
        except AgentbotError as exc:
            self.stats["send_failed"] += 1
            logger.warning("chat %s: message not sent: %s", chat_id, exc)
            return False
        if isinstance(stored, Message):
            self._own_ids[stored.id] = None
            if len(self._own_ids) > _OWN_MESSAGE_IDS:
                self._own_ids.popitem(last=False)
        self.stats["sent"] += 1
        logger.debug("chat %s: sent %r", chat_id, text)
        return True

    # -- the plugin-facing API (see PluginBot) -----------------------------------------------

    @property
    def agent_id(self) -> str:
        """The bot's own agent id."""
        if self._session is not None:
            return self._session.agent.id
        return self.config.smartsupp.agent_id

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
        if actor is None or actor.closed:
            return False
        if not actor.handed_off:
            logger.info("chat %s: handed off by %s", chat_id, plugin or "the runtime")
        actor.handed_off = True
        actor.silence()
        if message and message.strip() and self._tg is not None and not self._stopping:
            actor.post(Say(message, plugin, handoff=True))
        return True

    def resume(self, chat_id: str, *, plugin: str | None = None) -> bool:
        """Undo a hand-off: the bot may answer in ``chat_id`` again (see PluginBot.resume)."""
        actor = self.chats.get(chat_id)
        if actor is None or actor.closed or actor.human_active:
            return False
        if actor.handed_off:
            logger.info("chat %s: the bot answers again (resumed by %s)", chat_id, plugin)
            actor.handed_off = False
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


@attrs.frozen
class _Background:
    """A plugin's background task, waiting for the task group or running in it."""

    fn: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    plugin: str
    label: str


def _format_stats(stats: collections.Counter[str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(stats.items())) or "no events"
