"""Every chat the bot knows: their actors, and the one place chat events change chat facts.

:class:`Chats` keeps one :class:`~agentbot.runtime.actors.ChatActor` per chat (created on
demand with the facts the ledger stored for it, forgotten when idle past
:data:`MAX_TRACKED_CHATS`), applies each chat event to the chat's
:class:`~agentbot.runtime.chat_state.ChatState` the moment it arrives, and carries out what the
resulting :class:`~agentbot.runtime.chat_state.Transition` says: log its note, store the facts,
silence the actor. Everything that changes a chat's facts goes through here — server events,
plugins (``say``, ``hand_off``, ``pause``, ``resume``) and the resync after a login (``learn``,
``replay``, ``resume_entries``) — so there is one path for each rule.

Dispatch is synchronous and never waits: the actor does the waiting.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentbot.api import ChatMessageReceived, Message
from agentbot.runtime.actors import ChatActor, Incoming, Resume, Say
from agentbot.runtime.chat_state import Rules, Transition
from agentbot.runtime.ledger import OutboxEntry
from agentbot.runtime.resync import replay_event

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot

__all__ = ["MAX_TRACKED_CHATS", "Chats"]

logger = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
"""Chats kept in memory; past it the least recently active idle chats are forgotten (their
durable facts stay in the ledger and come back when the chat does)."""


class Chats:
    """The bot's chats: actors by chat id, and the application of events and requests."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.actors: collections.OrderedDict[str, ChatActor] = collections.OrderedDict()
        # Visitor messages the resync read from the history before the socket delivered them:
        # their socket copy is expected, not a duplicate worth a warning or a second on_event.
        self._replayed: collections.OrderedDict[str, None] = collections.OrderedDict()

    # -- actors ------------------------------------------------------------------------------

    def actor(self, chat_id: str) -> ChatActor:
        """Return the actor of ``chat_id``, created (with its stored facts) if needed."""
        actors = self.actors
        actor = actors.get(chat_id)
        if actor is not None:
            actors.move_to_end(chat_id)
            return actor
        bot = self._bot
        actor = actors[chat_id] = ChatActor(bot, chat_id, bot.ledger.load_chat(chat_id))
        if len(actors) > MAX_TRACKED_CHATS:
            for old_id in list(actors)[:16]:
                if len(actors) <= MAX_TRACKED_CHATS:
                    break
                if not actors[old_id].busy:
                    del actors[old_id]
        return actor

    def post(self, actor: ChatActor, item: Incoming | Say | Resume) -> bool:
        """Queue ``item`` for ``actor``; a full inbox drops it, counted and logged."""
        if actor.post(item):
            return True
        self._bot.stats["dropped_events"] += 1
        logger.warning(
            "chat %s: inbox full (%d); dropping %s",
            actor.chat_id,
            self._bot.queue_limit(actor.chat_id),
            type(item.event).__name__ if isinstance(item, Incoming) else "a message",
        )
        return False

    def busy(self) -> int:
        """How many chat actors are handling something now."""
        return sum(1 for actor in self.actors.values() if actor.busy)

    @property
    def rules(self) -> Rules:
        """The transition rules, from ``[runtime]`` and the session's agent id."""
        runtime = self._bot.config.runtime
        return Rules(
            agent_id=self._bot.agent_id,
            human_first=runtime.human_first,
            resume_after_human_leaves=runtime.resume_after_human_leaves,
        )

    # -- events ------------------------------------------------------------------------------

    def dispatch(self, chat_id: str, event: Any) -> None:
        """Apply a chat event to its chat's facts at once, then queue it for the actor."""
        actor = self.actor(chat_id)
        item = self._apply(actor, event)
        if item is not None:
            self.post(actor, item)

    def _apply(self, actor: ChatActor, event: Any) -> Incoming | None:
        bot = self._bot
        transition = actor.state.apply(event, self.rules, now=bot.wall_clock())
        if not isinstance(event, ChatMessageReceived):
            self.after(actor, transition)
            return Incoming(event)
        message = event.message
        if transition.own:
            bot.speaker.echoed(actor.chat_id or "", message)
            return Incoming(event, message)
        answer = transition.answer
        if message.is_from_visitor:
            if not bot.ledger.receive(message.id, actor.chat_id or "", message.text or ""):
                if message.id in self._replayed:
                    del self._replayed[message.id]
                    logger.debug(
                        "chat %s: message %s arrived after its resync", actor.chat_id, message.id
                    )
                    return None
                bot.stats["duplicates"] += 1
                logger.warning(
                    "chat %s: message %s seen before in %r; not answering",
                    actor.chat_id,
                    message.id,
                    bot.ledger,
                )
                return Incoming(event, message)
            logger.debug("chat %s: visitor wrote %r", actor.chat_id, message.text)
            if not answer:
                bot.stats["not_answered_quiet"] += 1
                bot.ledger.decide(message.id, "quiet")
        self.after(actor, transition)
        return Incoming(event, message, answer=answer)

    def after(self, actor: ChatActor, transition: Transition) -> None:
        """Carry out a transition: log its note, store the facts, silence the actor."""
        if transition.persist and actor.chat_id is not None:
            self._bot.ledger.save_chat(actor.state)  # first: a logged fact is a stored fact
        if transition.note:
            logger.info("chat %s: %s", actor.chat_id, transition.note)
        if transition.silence:
            actor.silence()

    def spoke(self, actor: ChatActor, plugin: str | None, length: int) -> None:
        """A message reached the chat (called by the actor)."""
        logger.info("chat %s: sent %d chars from %s", actor.chat_id, length, plugin or "the bot")
        observer = self._bot.observer
        if observer is not None:
            observer.replied(plugin)
            received = actor.state.last_visitor_at
            if received is not None:
                observer.reply_latency(max(0.0, self._bot.wall_clock() - received))
        self.after(actor, actor.state.spoke())

    # -- what plugins ask for ----------------------------------------------------------------

    def say(self, chat_id: str, text: str, *, plugin: str | None = None) -> bool:
        """Queue a paced message into a known chat (see :meth:`PluginBot.say`)."""
        actor = self.actors.get(chat_id)
        if actor is None or not self._bot.accepting_work or not actor.may_send():
            return False
        if not text.strip():
            return False
        return actor.post(Say(text, plugin))

    def hand_off(
        self, chat_id: str, *, message: str | None = None, plugin: str | None = None
    ) -> bool:
        """Mark a chat handed off: cancel the pending answer, optionally say goodbye."""
        actor = self.actors.get(chat_id)
        if actor is None or actor.state.closed:
            return False
        self.after(actor, actor.state.hand_off())
        if message and message.strip() and self._bot.accepting_work:
            actor.post(Say(message, plugin, handoff=True))
        return True

    def pause(self, chat_id: str) -> bool:
        """Keep the bot quiet in a chat without a hand-off (see :meth:`PluginBot.pause`)."""
        actor = self.actors.get(chat_id)
        if actor is None or actor.state.closed:
            return False
        self.after(actor, actor.state.pause())
        return True

    def resume(self, chat_id: str) -> bool:
        """Undo a hand-off or pause: the bot may answer again (see PluginBot.resume)."""
        actor = self.actors.get(chat_id)
        if actor is None or actor.state.closed or actor.state.human_active:
            return False
        self.after(actor, actor.state.resume())
        return True

    def is_quiet(self, chat_id: str) -> bool:
        """Return whether the bot stays quiet in ``chat_id``."""
        actor = self.actors.get(chat_id)
        return actor is not None and not actor.may_send()

    # -- what the resync after a login tells the bot ------------------------------------------

    def known_open(self) -> set[str]:
        """Chats the bot believes open: in memory, and stored as open in the ledger."""
        in_memory = {chat_id for chat_id, actor in self.actors.items() if not actor.state.closed}
        return in_memory | set(self._bot.ledger.known_open_chats())

    def learn(
        self,
        chat_id: str,
        *,
        closed: bool | None = None,
        humans: set[str] | frozenset[str] = frozenset(),
        visitor_id: str | None = None,
    ) -> None:
        """Reconcile one chat with what the server says."""
        actor = self.actor(chat_id)
        if visitor_id and not actor.state.visitor_id:
            actor.state.visitor_id = visitor_id
        self.after(actor, actor.state.learn(closed=closed, humans=humans, rules=self.rules))

    def replay(self, message: Message, *, fresh: bool = False) -> None:
        """Handle a visitor message again (recovered after a restart), or for the first time
        (``fresh``: missed while away, deduplicated like any other)."""
        event = replay_event(message)
        chat_id = message.chat_id or ""
        if fresh:
            self._bot.stats["events"] += 1
            self._replayed[message.id] = None
            while len(self._replayed) > 1024:
                self._replayed.popitem(last=False)
            self.dispatch(chat_id, event)
            return
        actor = self.actor(chat_id)
        self.post(actor, Incoming(event, message, answer=actor.may_send()))

    def resume_entries(self, actor: ChatActor, entries: Sequence[OutboxEntry]) -> None:
        """Give unsettled outbox entries from before a restart back to their chat's actor."""
        self.post(actor, Resume(tuple(entries)))
