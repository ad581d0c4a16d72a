"""What the bot knows about one chat, and the rules that change it: a pure state machine.

One owner for each chat's facts (model: h11's ``ConnectionState``): is the chat open, which
humans are in it, did a plugin hand it off or pause the bot there, has the bot spoken there,
what did the visitor write last. Events change these facts only through :meth:`ChatState.apply`,
which returns a :class:`Transition` saying what the change means for the bot (answer this
message, drop what you were about to say, store the new facts). Nothing here does I/O, reads a
clock or logs: "now" is an argument, and the caller (the chat's actor and the dispatcher in
:mod:`agentbot.runtime.bot`) logs the transition's ``note`` and persists when ``persist`` is set.

The rules (DESIGN.md, runtime; README "What the bot does for you"):

* only visitor messages are answered (``Message.is_from_visitor``: never the bot's own, another
  agent's, a system event or an internal note);
* a human agent joining, being assigned or writing in a chat (and the chat closing) silences
  the bot there at once (``human_first``, default on); with ``resume_after_human_leaves`` the
  bot answers again once the last such human left or was unassigned;
* a hand-off (``bot.hand_off``) or a pause (``bot.pause``) keeps the bot quiet until
  ``bot.resume``; a hand-off still lets its own goodbye message out;
* a closed chat gets nothing until it is opened again.

The durable facts (:data:`DURABLE_FIELDS`) are what a restart must not forget: they decide
whether the bot may speak in a chat. They are stored by :mod:`agentbot.runtime.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from agentbot.api import (
    AgentAssigned,
    AgentJoined,
    AgentLeft,
    AgentUnassigned,
    ChatClosed,
    ChatDeleted,
    ChatMessageReceived,
    ChatOpened,
    ChatVisitorClosed,
    ChatVisitorTyping,
    Message,
)

__all__ = ["CLOSING_EVENTS", "DURABLE_FIELDS", "ChatState", "Rules", "Transition"]

CLOSING_EVENTS = (ChatClosed, ChatVisitorClosed, ChatDeleted)
"""Events after which the bot says nothing more in the chat (until it is opened again)."""

DURABLE_FIELDS = (
    "visitor_id",
    "closed",
    "humans",
    "human_active",
    "handed_off",
    "paused",
    "greeted",
    "last_visitor_message_id",
    "last_visitor_at",
)
"""The facts stored across restarts (see :meth:`ChatState.to_record`)."""


@attrs.frozen(kw_only=True)
class Rules:
    """The settings the transitions depend on (from ``[runtime]`` and the session)."""

    agent_id: str
    """The bot's own agent id: its messages and joins are not a human's."""
    human_first: bool = True
    resume_after_human_leaves: bool = False


@attrs.frozen(kw_only=True)
class Transition:
    """What one event meant for the bot."""

    answer: bool = False
    """The event is a visitor message the bot may answer (not yet checked for duplicates)."""
    silence: bool = False
    """Drop what the bot was about to say in this chat, now."""
    persist: bool = False
    """A durable fact changed: store the state."""
    note: str | None = None
    """A line worth logging at INFO (``"agent 7 joined; the bot steps back"``)."""
    own: bool = False
    """The event is the echo of a message the bot sent."""


_NOTHING = Transition()


@attrs.define(kw_only=True)
class ChatState:
    """The facts of one chat and their transitions. Owned by the chat's actor."""

    chat_id: str
    visitor_id: str | None = None
    closed: bool = False
    humans: frozenset[str] = frozenset()
    """Other agents known to be in the chat (joined, assigned or wrote)."""
    human_active: bool = False
    """A human handles the chat: the bot is quiet here (``human_first``)."""
    handed_off: bool = False
    paused: bool = False
    greeted: bool = False
    """The bot has said something in this chat (a restart must not greet again)."""
    last_visitor_message_id: str | None = None
    last_visitor_at: float | None = None
    """Epoch seconds when the visitor's latest message arrived."""

    # -- questions ---------------------------------------------------------------------------

    def may_send(self, *, handoff: bool = False) -> bool:
        """Whether the bot may send into this chat (``handoff``: the hand-off message itself)."""
        if self.closed or self.human_active:
            return False
        if self.paused:
            return False
        return handoff or not self.handed_off

    @property
    def quiet_reason(self) -> str | None:
        """Why the bot is quiet here (``"closed"``, ``"human"``, …), or None if it may talk."""
        if self.closed:
            return "closed"
        if self.human_active:
            return "human"
        if self.paused:
            return "paused"
        if self.handed_off:
            return "handed off"
        return None

    # -- transitions from events -------------------------------------------------------------

    def apply(self, event: Any, rules: Rules, *, now: float) -> Transition:
        """Change the facts for ``event`` (which belongs to this chat); say what it means.

        ``now`` is epoch seconds (when a visitor message arrived). Events that change nothing
        here give an empty transition.
        """
        if isinstance(event, ChatMessageReceived):
            return self._message(event.message, rules, now=now)
        if isinstance(event, ChatOpened):
            return self._opened(event, rules)
        if isinstance(event, CLOSING_EVENTS):
            if self.closed:
                return _NOTHING
            self.closed = True
            return Transition(silence=True, persist=True, note=f"closed ({type(event).__name__})")
        if isinstance(event, AgentJoined):
            if event.agent.id == rules.agent_id:
                return _NOTHING
            return self._humans_in({event.agent.id}, rules, "joined")
        if isinstance(event, AgentAssigned):
            others = set(event.assigned_ids) - {rules.agent_id}
            return self._humans_in(others, rules, "was assigned")
        if isinstance(event, AgentLeft):
            return self._humans_out({event.agent.id}, rules)
        if isinstance(event, AgentUnassigned):
            return self._humans_out(set(event.unassigned_ids), rules)
        if isinstance(event, ChatVisitorTyping) and event.visitor_id and not self.visitor_id:
            self.visitor_id = event.visitor_id
            return Transition(persist=True)
        return _NOTHING

    def _message(self, message: Message, rules: Rules, *, now: float) -> Transition:
        if message.is_from_visitor:
            if message.visitor_id:
                self.visitor_id = message.visitor_id
            self.last_visitor_message_id = message.id
            self.last_visitor_at = now
            return Transition(answer=self.may_send(), persist=True)
        if message.is_from_agent:
            if message.agent_id == rules.agent_id:
                return Transition(own=True)
            if message.agent_id:
                return self._humans_in({message.agent_id}, rules, "wrote")
        return _NOTHING

    def _opened(self, event: ChatOpened, rules: Rules) -> Transition:
        chat = event.chat
        reopened = self.closed
        self.closed = False
        if chat is not None and chat.visitor_id:
            self.visitor_id = chat.visitor_id
        others = set(chat.assigned_ids) - {rules.agent_id} if chat is not None else set()
        if others:
            joined = self._humans_in(others, rules, "is assigned")
            return attrs.evolve(joined, persist=True, note=joined.note or None)
        return Transition(persist=True, note="reopened" if reopened else None)

    def _humans_in(self, agent_ids: set[str], rules: Rules, how: str) -> Transition:
        if not agent_ids:
            return _NOTHING
        self.humans = self.humans | agent_ids
        if not rules.human_first or self.human_active:
            return Transition(persist=True)
        self.human_active = True
        who = ", ".join(sorted(agent_ids))
        return Transition(silence=True, persist=True, note=f"agent {who} {how}; the bot steps back")

    def _humans_out(self, agent_ids: set[str], rules: Rules) -> Transition:
        if not self.humans & agent_ids:
            return _NOTHING
        self.humans = self.humans - agent_ids
        if self.human_active and not self.humans and rules.resume_after_human_leaves:
            self.human_active = False
            return Transition(persist=True, note="the last human left; the bot answers again")
        return Transition(persist=True)

    # -- transitions asked for by plugins ----------------------------------------------------

    def hand_off(self) -> Transition:
        """Hand the chat off: the bot stays quiet here until resumed."""
        if self.handed_off:
            return Transition(silence=True)
        self.handed_off = True
        return Transition(silence=True, persist=True, note="handed off")

    def pause(self) -> Transition:
        """Pause the bot in this chat without a hand-off (``bot.pause``)."""
        if self.paused:
            return _NOTHING
        self.paused = True
        return Transition(silence=True, persist=True, note="paused")

    def resume(self) -> Transition:
        """Undo a hand-off or a pause (not a human's presence, nor a close)."""
        if not (self.handed_off or self.paused):
            return _NOTHING
        self.handed_off = False
        self.paused = False
        return Transition(persist=True, note="the bot answers again")

    def spoke(self) -> Transition:
        """Record that the bot's message reached the chat."""
        if self.greeted:
            return _NOTHING
        self.greeted = True
        return Transition(persist=True)

    def learn(
        self,
        *,
        closed: bool | None = None,
        humans: Iterable[str] = (),
        rules: Rules,
    ) -> Transition:
        """Reconcile with what the server says at login (resync): closed, agents present."""
        if closed and not self.closed:
            self.closed = True
            return Transition(silence=True, persist=True, note="closed while offline")
        if closed is False and self.closed:
            self.closed = False
            return Transition(persist=True, note="open again (learned at login)")
        others = set(humans) - {rules.agent_id} - self.humans
        if others:
            return self._humans_in(others, rules, "joined while offline")
        return _NOTHING

    # -- persistence -------------------------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        """Return the durable facts as JSON-ready values."""
        record: dict[str, Any] = {name: getattr(self, name) for name in DURABLE_FIELDS}
        record["humans"] = sorted(self.humans)
        return record

    @classmethod
    def from_record(cls, chat_id: str, record: Mapping[str, Any]) -> ChatState:
        """Rebuild a state from :meth:`to_record`'s output; unknown or bad values are ignored."""
        state = cls(chat_id=chat_id)
        for name in DURABLE_FIELDS:
            if name not in record:
                continue
            value = record[name]
            if name == "humans":
                if isinstance(value, list):
                    state.humans = frozenset(str(item) for item in value)
            elif name in ("visitor_id", "last_visitor_message_id"):
                if value is None or isinstance(value, str):
                    setattr(state, name, value)
            elif name == "last_visitor_at":
                if value is None or isinstance(value, int | float):
                    state.last_visitor_at = None if value is None else float(value)
            elif isinstance(value, bool):
                setattr(state, name, value)
        return state
