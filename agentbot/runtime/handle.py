"""``bot``: what a plugin receives in every hook, bound to that plugin.

Plugins act only through this object and the values they return, never through the network
client (STYLE.md §6). Each plugin gets its own instance, so ``bot.config``, ``bot.storage``
and ``bot.logger`` are that plugin's; the actions (``say``, ``hand_off``, ``resume``,
``track_visitors``) go to the one shared runtime, which applies its rules (pacing, human
first, loop guard, rate limit) to them like to any answer. The chat actions (``close_chat``,
``tag_chat``, ``mark_important``, ``assign``, ``unassign``, ``transfer_to_group``, ``note``,
``history``) go straight to the REST API through the runtime's ``Outbound``. Background
work (``start_soon``) runs in the bot's task group and sleeps on the bot's clock (``now``,
``sleep_until``), so tests on a virtual clock never wait.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import anyio
import anyio.from_thread

from agentbot.errors import ActionUnsupported, AgentbotError, PluginError
from agentbot.runtime.clock import wait_for
from agentbot.runtime.storage import KeyValueStore

if TYPE_CHECKING:
    from agentbot.api import AccountAgent, AgentConnectReply, Message, Visitor
    from agentbot.client import MessagePage
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.outbound import Outbound
    from agentbot.runtime.plugins import LoadedPlugin

__all__ = ["PluginBot", "on_loop"]

R = TypeVar("R")

MAX_DECISION_KIND_CHARS = 32
"""A ``count_decision`` kind is a metric label: longer ones are cut (a label is no log)."""


def on_loop(bot: Bot, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Call ``fn`` on the bot's event loop thread, from wherever the plugin is.

    Sync hooks run in worker threads (``[runtime] sync_hooks = "thread"``); the runtime's
    state (chats, storage, tasks) belongs to the loop thread, so a ``bot`` call made in a
    worker thread is carried over (with the hook's context variables, which decide the order
    of what it says) and waits for the answer. On the loop thread it is a plain call.
    """
    if threading.get_ident() == bot.loop_thread:
        return fn(*args, **kwargs)
    context = contextvars.copy_context()

    async def call() -> R:  # in a task on the loop: anyio calls (start_soon) need one
        return context.run(fn, *args, **kwargs)

    return anyio.from_thread.run(call)


class _LoopBoundStore:
    """A plugin's store whose calls run on the loop thread (see :func:`on_loop`)."""

    __slots__ = ("_bot", "_store")

    def __init__(self, bot: Bot, store: KeyValueStore) -> None:
        self._bot = bot
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:
        return on_loop(self._bot, self._store.get, key, default)

    def set(self, key: str, value: Any) -> None:
        on_loop(self._bot, self._store.set, key, value)

    def delete(self, key: str) -> None:
        on_loop(self._bot, self._store.delete, key)

    def keys(self, prefix: str = "") -> list[str]:
        return on_loop(self._bot, self._store.keys, prefix)

    def __repr__(self) -> str:
        return repr(self._store)


T = TypeVar("T")


class PluginBot:
    """The ``bot`` argument of every hook: one plugin's view of the running bot."""

    __slots__ = ("_bot", "_plugin", "_storage", "logger")

    def __init__(self, bot: Bot, plugin: LoadedPlugin) -> None:
        self._bot = bot
        self._plugin = plugin
        self._storage: KeyValueStore | None = None
        self.logger = logging.getLogger(f"agentbot.plugins.{plugin.name}")
        """A logger named ``agentbot.plugins.<plugin name>``."""

    @property
    def name(self) -> str:
        """The plugin's name (its entry-point name or ``[plugins.NAME]`` section)."""
        return self._plugin.name

    @property
    def config(self) -> Any:
        """The plugin's validated config object (see ``register_config``), or None."""
        return self._plugin.config

    @property
    def config_dir(self) -> Path | None:
        """The folder holding bot.toml, or None when the config came from the environment only.

        Resolve paths in your options against it, as the runtime does for
        ``[runtime] storage_path``, so ``file = "faq.md"`` means the file next to bot.toml
        whatever the working folder: ``bot.config_dir / option if bot.config_dir else
        Path(option)``. Absolute (made so against the working folder at start-up).
        """
        path = self._bot.config.path
        return path.parent.absolute() if path is not None else None

    @property
    def storage(self) -> KeyValueStore:
        """The plugin's private key-value store, kept across restarts (SQLite by default)."""
        if self._storage is None:
            self._storage = _LoopBoundStore(self._bot, self._bot.plugin_storage(self._plugin.name))
        return self._storage

    # -- who we are, who else is here -------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The bot's own agent id."""
        return self._bot.agent_id

    @property
    def session(self) -> AgentConnectReply | None:
        """The current session (``agent.connect`` reply), or None while not connected."""
        return self._bot.session

    @property
    def agents(self) -> tuple[AccountAgent, ...]:
        """Every agent of the account, from the session (the bot's own agent included)."""
        return self._bot.agents

    def humans_online(self) -> tuple[str, ...]:
        """Return the ids of other agents currently online: is a human around to take over?"""
        return self._bot.humans_online()

    async def visitor(self, visitor_id: str | None) -> Visitor | None:
        """Return what the bot knows about a visitor: name, language, visits, page, ….

        Parameters:

        - ``visitor_id``: the visitor's id, e.g. ``chat.visitor_id`` in
          ``on_chat_opened`` or ``message.visitor_id`` in ``on_visitor_message``. None (a
          message without one) gives None.

        Returns the latest :class:`~agentbot.Visitor` the bot knows, or None when it cannot
        find out. The runtime keeps a small per-bot cache (the last 1000 visitors, least
        recently used forgotten), filled from ``visitor.connected`` and ``visitor.updated``
        events and, on a miss, from a ``visitor.get`` request to the server. That request
        is time-limited (2 s); an error or timeout gives None, and the same visitor is not
        asked for again within 30 s of the runtime clock (None meanwhile). Plugins asking
        for the same visitor at the same time share one request. Use it instead of
        collecting ``on_visitor_connected`` yourself: with ``track_visitors`` off (the
        default) the bot never sees a visitor's ``visitor.connected``, which is announced
        before the chat opens.

        Async (it may wait for the server, within the hook's time budget); it never
        raises for a missing visitor or a server error.

        Example::

            @agentbot.hookimpl
            async def on_chat_opened(bot, chat_id, chat):
                visitor = await bot.visitor(chat.visitor_id)
                name = visitor.name if visitor is not None and visitor.name else "there"
                bot.say(chat_id, f"Hi {name}!")
        """
        if visitor_id is None or visitor_id == "":
            return None
        if not isinstance(visitor_id, str):
            raise PluginError(
                f"plugin {self._plugin.name!r}: visitor() takes a visitor id (str), "
                f"got {type(visitor_id).__name__}",
                plugin=self._plugin.name,
            )
        return await self._bot.visitors.lookup(visitor_id)

    # -- actions ---------------------------------------------------------------------------

    def say(self, chat_id: str, text: str) -> bool:
        """Queue ``text`` to be sent into ``chat_id``, paced and wrapped in typing like a reply.

        Returns False (and sends nothing) when the bot is not running, the chat is unknown,
        closed, handled by a human, or was handed off.

        Order: messages go out in the order of the events that caused them. Said from a
        hook for an event in this chat, the message goes out after the answers to visitor
        messages that arrived before that event and before the answers to later ones — a
        greeting said in ``on_chat_opened`` precedes the answer to the visitor's first
        message, even if that message arrived while the greeting was being prepared. Said
        in ``on_visitor_message`` or ``on_reply_chosen``, it follows that message's answer.
        Said from anywhere else (a background task, another chat's or an account-wide
        hook), it follows the answers to every message received so far. Several says keep
        the order they were made in.
        """
        return on_loop(self._bot, self._bot.chats.say, chat_id, text, plugin=self._plugin.name)

    def hand_off(self, chat_id: str, *, message: str | None = None) -> bool:
        """Stop answering in ``chat_id``: cancel the pending answer and stay quiet there.

        Quiet until the chat closes or a plugin calls :meth:`resume`.

        ``message`` (optional) is sent first, paced, as the bot's last words (e.g. "A
        colleague will take over"). Returns False if the chat is unknown or already closed.
        """
        chats = self._bot.chats
        return on_loop(
            self._bot, chats.hand_off, chat_id, message=message, plugin=self._plugin.name
        )

    def resume(self, chat_id: str) -> bool:
        """Undo :meth:`hand_off`: let the bot answer and say things in ``chat_id`` again.

        Parameters:

        - ``chat_id``: a chat the bot handed off (by any plugin).

        Returns True when the bot may speak in the chat now (also when it was not handed
        off); False, changing nothing, when the chat is unknown or closed, or a human agent
        is active there (human first always wins: a chat a human took over is not the
        bot's to take back). The next visitor message is answered as usual, and
        :meth:`say` works again; nothing said or skipped while the chat was handed off is
        replayed. Sync; call it from any hook or background task.

        Example (come back once if no human answered within two minutes)::

            @agentbot.hookimpl
            def on_visitor_message(bot, chat_id, text):
                if "human" in text.lower():
                    bot.hand_off(chat_id, message="Let me find a colleague.")
                    bot.start_soon(come_back, bot, chat_id, bot.now() + 120)

            async def come_back(bot, chat_id, deadline):
                await bot.sleep_until(deadline)
                if bot.resume(chat_id):
                    bot.say(chat_id, "Nobody is free right now; can I take a message?")
        """
        return on_loop(self._bot, self._bot.chats.resume, chat_id)

    def pause(self, chat_id: str) -> bool:
        """Keep the bot quiet in ``chat_id`` without a hand-off message, until :meth:`resume`.

        Like :meth:`hand_off` without the goodbye: the pending answer is dropped, nothing more
        is said there, and the pause is remembered across restarts. Returns False if the chat
        is unknown or closed.
        """
        return on_loop(self._bot, self._bot.chats.pause, chat_id)

    def is_quiet(self, chat_id: str) -> bool:
        """Return whether the bot stays quiet in ``chat_id`` (closed, human, or handed off)."""
        return on_loop(self._bot, self._bot.chats.is_quiet, chat_id)

    # -- chat actions (REST) ------------------------------------------------------------------
    #
    # Async: each is one REST request (VENDOR-SOURCES §3), time-limited by [smartsupp]
    # api_timeout_seconds. A failure is logged with the plugin's name and raised as our typed
    # error, so a plugin may handle it; unhandled, the runtime logs it and the bot carries on.

    async def close_chat(self, chat_id: str) -> None:
        """Close ``chat_id`` (``PATCH /v2/conversations/{id}/close``).

        The visitor sees the chat end; the bot stops answering there (``on_chat_closed``
        follows when the server announces it). Raises :class:`~agentbot.AgentbotError`
        subclasses: ``RestError``/``RestAuthError`` from the server, ``ActionUnsupported``
        without an ``api_token``.
        """
        await self._act("close_chat", chat_id, self._outbound().close_chat(chat_id))

    async def tag_chat(self, chat_id: str, tags: Sequence[str]) -> None:
        """Set the tags of ``chat_id`` to ``tags`` (the whole list, as the API replaces it).

        Example: ``await bot.tag_chat(chat_id, ["billing", "vip"])``.
        """
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise PluginError(
                f"plugin {self.name!r}: tag_chat takes a list of str", plugin=self.name
            )
        await self._act("tag_chat", chat_id, self._outbound().tag_chat(chat_id, list(tags)))

    async def mark_important(self, chat_id: str, important: bool = True) -> None:
        """Mark ``chat_id`` important (``important=False`` clears it) for the human agents."""
        await self._act(
            "mark_important", chat_id, self._outbound().mark_important(chat_id, important)
        )

    async def assign(self, chat_id: str, agent_id: str) -> None:
        """Assign the agent ``agent_id`` to ``chat_id`` (a real hand-over to that person).

        The agent's id as in :attr:`agents`. The server then announces the agent in the chat,
        and human first makes the bot go quiet there.
        """
        await self._act("assign", chat_id, self._outbound().assign(chat_id, agent_id))

    async def unassign(self, chat_id: str, agent_id: str | None = None) -> None:
        """Unassign ``agent_id`` (default: the bot itself) from ``chat_id``."""
        await self._act("unassign", chat_id, self._outbound().unassign(chat_id, agent_id))

    async def transfer_to_group(self, chat_id: str, group: str) -> None:
        """Not available: Smartsupp's API has no operation to transfer a chat to a group.

        Always raises :class:`~agentbot.ActionUnsupported` saying so (VENDOR-SOURCES §3 lists
        only assign/unassign to an agent): :meth:`assign` an agent of that group instead.
        Kept so plugins written against other chat platforms fail clearly, not with an
        ``AttributeError``.
        """
        await self._act(
            "transfer_to_group", chat_id, self._outbound().transfer_to_group(chat_id, group)
        )

    async def note(self, chat_id: str, text: str) -> Message:
        """Write an internal note into ``chat_id``: agents see it, the visitor never does.

        Not paced and not wrapped in typing (nobody watches it being typed), and never
        answered: a note is not visitor input. Returns the stored note.
        """
        if not isinstance(text, str) or not text.strip():
            raise PluginError(f"plugin {self.name!r}: note needs a non-empty str", plugin=self.name)
        return await self._act("note", chat_id, self._outbound().note(chat_id, text))

    async def history(
        self,
        chat_id: str,
        *,
        size: int | None = None,
        after: str | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> MessagePage:
        """Return one page of the messages of ``chat_id``, visitor's, agents' and events.

        ``page.items`` are :class:`~agentbot.Message` objects (oldest first unless
        ``order="desc"``), ``page.after`` the cursor to pass as ``after`` for the next page
        (None on the last), ``page.total`` the count the server reports.

        Example::

            page = await bot.history(chat_id, size=20)
            while True:
                for message in page.items:
                    ...
                if page.after is None:
                    break
                page = await bot.history(chat_id, size=20, after=page.after)
        """
        return await self._act(
            "history",
            chat_id,
            self._outbound().history(chat_id, size=size, after=after, order=order),
        )

    def _outbound(self) -> Outbound:
        outbound = getattr(self._bot, "outbound", None)
        if outbound is None:
            raise ActionUnsupported("chat actions", "this runtime has no outbound transport")
        return cast("Outbound", outbound)

    async def _act(self, action: str, chat_id: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except AgentbotError as exc:
            self.logger.warning(
                "plugin %s: %s in chat %s failed: %s", self.name, action, chat_id, exc
            )
            raise

    # -- background work -------------------------------------------------------------------

    def start_soon(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None
    ) -> None:
        """Run ``await fn(*args)`` in the background, for the rest of the bot's run.

        Parameters:

        - ``fn``: an async function (a coroutine function, or anything returning an
          awaitable); called with ``args`` when the task starts.
        - ``args``: its positional arguments (use ``functools.partial`` for keywords).
        - ``name``: a label for logs and task listings (default: ``fn``'s qualified name).

        For work that must not hold up a hook: deliveries with retries, timers, periodic
        loops. The task runs in the bot's task group, so it is cancelled at shutdown, before
        ``on_stop`` runs (so ``on_stop`` may close what the task used); it must not outlive
        the run. Sleep through :meth:`sleep_until` so tests on a virtual clock never wait.

        When it runs: at once if the bot is running; a call made before the bot is logged
        in (from ``on_start``) is queued and started as soon as it is; a call made while the
        bot shuts down (from ``on_stop``) is refused with a warning. Returns at once (it is
        not async).

        Failures: an exception out of the task is logged with the plugin's name and
        traceback and counted as a plugin failure, like a hook that raised; the bot and the
        other tasks keep running. Cancellation is not an error. Raises
        :class:`~agentbot.PluginError` if ``fn`` is not callable.

        Example::

            @agentbot.hookimpl
            def on_start(bot):
                bot.start_soon(poll_orders, bot, name="poll orders")

            async def poll_orders(bot):
                while True:
                    await refresh_cache()
                    await bot.sleep_until(bot.now() + 60)
        """
        bot = self._bot
        on_loop(
            bot,
            bot.background.start,
            fn,
            args,
            plugin=self._plugin.name,
            name=name,
            stopping=bot.stopping,
        )

    # -- time ------------------------------------------------------------------------------

    def now(self) -> float:
        """Return the runtime clock's current time, in seconds.

        Monotonic, with an arbitrary origin: use it for deadlines and durations (a retry's
        backoff, "no human answered within 60 s"), never as a date — that is
        :meth:`wall_time`. It is the clock that paces replies: in tests it is the harness's
        virtual clock, so time only moves when the test says so.
        """
        return self._bot.clock.now()

    def wall_time(self) -> float:
        """Return the current date and time as epoch seconds (like :func:`time.time`).

        For calendar questions: opening hours in a time zone, holidays, timestamps on a
        lead. Convert with ``datetime.datetime.fromtimestamp(bot.wall_time(), tz)``. It is
        the ``wall_clock`` the Bot was given: :func:`time.time` in production; in tests the
        harness's virtual wall time (a fixed epoch plus the virtual clock), so "Saturday
        night" is a test parameter and advancing the clock moves the date. Not monotonic
        (the system clock may be set back): measure durations with :meth:`now`.
        """
        return float(self._bot.wall_clock())

    async def sleep_until(self, deadline: float) -> None:
        """Wait until :meth:`now` reaches ``deadline`` (returns at once if it has passed).

        Parameters:

        - ``deadline``: a moment on the runtime clock, e.g. ``bot.now() + 30``.

        Sleeps through the runtime's clock, so a test on a virtual clock never waits for
        real; cancelled like any sleep (at shutdown, for a background task). Use it instead
        of ``anyio.sleep``/``asyncio.sleep`` in plugin code. A NaN deadline raises
        ``ValueError``.

        Example (a retry with backoff, in a task started with :meth:`start_soon`)::

            for attempt in range(5):
                if await deliver(lead):
                    break
                await bot.sleep_until(bot.now() + 2**attempt)
        """
        if math.isnan(deadline):
            raise ValueError("cannot sleep until NaN")
        await self._bot.clock.sleep_until(deadline)

    async def wait_for(self, event: anyio.Event, *, deadline: float | None = None) -> bool:
        """Wait until ``event`` is set or :meth:`now` reaches ``deadline``; True if set.

        Parameters:

        - ``event``: an :class:`anyio.Event` another part of the plugin sets (a hook that
          queued work for a background task, say).
        - ``deadline``: a moment on the runtime clock; None (the default): no time limit.

        Why not ``await event.wait()``: the wait parks on the runtime clock (until
        ``deadline``, or forever), so the test harness sees a task that waits here as idle,
        just like one in :meth:`sleep_until`; a task blocked on anything else counts as busy
        and a test's ``settle()`` never returns. Cancelled like any sleep. Returns at once
        (True) if ``event`` is already set. A NaN deadline raises ``ValueError``.

        Example (a background queue, woken by a hook or every 10 minutes)::

            while True:
                woken = state.changed
                await flush(state)
                await bot.wait_for(woken, deadline=bot.now() + 600)
                state.changed = anyio.Event()
        """
        return await wait_for(self._bot.clock, event, deadline=deadline)

    # -- metrics ---------------------------------------------------------------------------

    def count_decision(self, kind: str) -> None:
        """Count one answering decision of this plugin, by kind, for ``/metrics``.

        Parameters:

        - ``kind``: what the plugin decided for one visitor message, e.g. ``"answer"``,
          ``"clarify"``, ``"silent"`` or ``"follow_up"`` (the built-in faq plugin's
          kinds). A short word: it becomes a label value, so keep the set small.

        Adds one to ``agentbot_faq_decisions_total{bot, kind}`` when the operations
        endpoint is on (``[server] listen``); does nothing otherwise. Safe from a sync hook
        running in a worker thread. Raises :class:`~agentbot.PluginError` for an empty or
        non-string ``kind``.

        Example::

            @agentbot.hookimpl
            def on_visitor_message(bot, text):
                if "price" not in text:
                    bot.count_decision("silent")
                    return None
                bot.count_decision("answer")
                return agentbot.Reply("See our price list.", confidence=0.8)
        """
        if not isinstance(kind, str) or not kind.strip():
            raise PluginError(
                f"plugin {self._plugin.name!r}: count_decision() takes a non-empty kind (str)",
                plugin=self._plugin.name,
            )
        observer = self._bot.observer
        if observer is not None:
            observer.faq_decision(kind.strip()[:MAX_DECISION_KIND_CHARS])

    @property
    def track_visitors(self) -> bool:
        """Whether the bot wants visitor events for every visitor (``agent.track_visitors``)."""
        return self._bot.track_visitors

    @track_visitors.setter
    def track_visitors(self, enabled: bool) -> None:
        on_loop(self._bot, setattr, self._bot, "track_visitors", enabled)

    def __repr__(self) -> str:
        return f"PluginBot(plugin={self._plugin.name!r})"
