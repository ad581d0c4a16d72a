"""The sandbox's in-memory account: visitors, chats, messages and a timestamped transcript.

Pure bookkeeping, no I/O and no sockets: the hub (:mod:`agentbot.sandbox.hub`) calls these
mutations and decides who hears about them. Records are mutable on purpose (they are the
server's own rows); what leaves the sandbox is always a fresh dict built by
:mod:`agentbot.sandbox.wire`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agentbot.sandbox.config import SandboxConfig

__all__ = [
    "AccountState",
    "ChatRecord",
    "ChatStatus",
    "MessageRecord",
    "Speaker",
    "VisitorRecord",
    "iso_timestamp",
]

ChatStatus = Literal["pending", "open", "closed"]
Speaker = Literal["visitor", "agent", "system"]

# Id prefixes as Smartsupp's own examples spell them (VENDOR-SOURCES S1 and the socket docs:
# conversation/chat ``co2wgLaNKxtOe``, visitor ``viJqfKK4RIOh``, message ``msd1L4y1Gtxq``).
CHAT_ID_PREFIX = "co"
VISITOR_ID_PREFIX = "vi"
MESSAGE_ID_PREFIX = "ms"
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 10  # 62**10 ids per prefix: a restart never meets an old one

# Visitor fields a client may set through visitor.connect / visitor.update (PROTOCOL.md §4).
VISITOR_TEXT_FIELDS = (
    "name",
    "email",
    "phone",
    "lang",
    "group",
    "page_url",
    "page_title",
    "referer",
    "domain",
    "bundle_version",
)


def iso_timestamp(epoch_seconds: float) -> str:
    """Format epoch seconds the way the vendor does: ``2019-10-04T14:03:21.877Z``."""
    moment = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(slots=True)
class VisitorRecord:
    """One website visitor, with or without a socket (scripted visitors have none)."""

    id: str
    created_at: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    lang: str | None = None
    group: str | None = None
    page_url: str | None = None
    page_title: str | None = None
    referer: str | None = None
    domain: str | None = None
    bundle_version: str | None = None
    visits: int = 1
    variables: dict[str, Any] = field(default_factory=dict)
    chat_id: str | None = None  # the visitor's latest chat, open or closed


@dataclass(slots=True)
class MessageRecord:
    """One stored chat message or chat event message (join, leave, close, rating)."""

    id: str
    chat_id: str
    visitor_id: str
    type: Literal["message", "event", "note"]
    sub_type: str  # "contact" | "agent" | "system" | ...
    content_type: str
    created_at: str
    text: str | None = None
    data: Any = None
    agent_id: str | None = None
    group_id: str | None = None


@dataclass(slots=True)
class ChatRecord:
    """One conversation between a visitor and the account's agents."""

    id: str
    visitor_id: str
    created_at: str
    status: ChatStatus = "pending"
    assigned_ids: list[str] = field(default_factory=list)
    group_id: str | None = None
    messages: list[MessageRecord] = field(default_factory=list)
    rating: tuple[int | None, str | None] | None = None
    close_type: str | None = None
    closed_at: str | None = None
    visitor_read_at: str | None = None

    @property
    def is_open(self) -> bool:
        """True while the chat is pending or open (not closed)."""
        return self.status != "closed"


class AccountState:
    """All rows of one sandbox account, plus the transcript of everything said and typed."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.visitors: dict[str, VisitorRecord] = {}
        self.chats: dict[str, ChatRecord] = {}
        self.transcript: list[dict[str, Any]] = []
        self._seq = itertools.count(1)
        self._issued: set[str] = set()

    # -- identifiers and time -------------------------------------------------------------

    def next_seq(self) -> int:
        """Return the next sequence number; one counter orders every recorded thing."""
        return next(self._seq)

    def new_id(self, prefix: str) -> str:
        """Return a fresh random id such as ``viJqfKK4RIOh``, never issued before by this state.

        Ids look like Smartsupp's (a two-letter prefix, then random letters and digits) and are
        random rather than counted, so a restarted sandbox never hands out an id that a bot's
        store already remembers from the last run (counting from 1 made ``ms1`` "seen before").
        """
        while True:
            candidate = prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def now(self) -> float:
        """The sandbox clock (transcript and recording timestamps)."""
        return self.config.clock()

    def now_iso(self) -> str:
        """The wall clock as an ISO string, for ``createdAt`` on the wire."""
        return iso_timestamp(self.config.wall_clock())

    def reset(self) -> None:
        """Forget every visitor, chat and transcript entry (ids already issued stay retired)."""
        self.visitors.clear()
        self.chats.clear()
        self.transcript.clear()

    # -- visitors -------------------------------------------------------------------------

    def create_visitor(
        self, values: Mapping[str, Any], *, visitor_id: str | None = None
    ) -> VisitorRecord:
        """Create a visitor from snake_case ``values`` (unknown keys are ignored)."""
        visitor = VisitorRecord(
            id=visitor_id or self.new_id(VISITOR_ID_PREFIX), created_at=self.now_iso()
        )
        self.update_visitor(visitor, values)
        self.visitors[visitor.id] = visitor
        return visitor

    def update_visitor(self, visitor: VisitorRecord, values: Mapping[str, Any]) -> dict[str, Any]:
        """Apply snake_case ``values``; return only the fields that really changed."""
        changes: dict[str, Any] = {}
        for name in VISITOR_TEXT_FIELDS:
            if name in values:
                new = values[name]
                new = None if new is None else str(new)
                if getattr(visitor, name) != new:
                    setattr(visitor, name, new)
                    changes[name] = new
        visits = values.get("visits")
        if isinstance(visits, int) and visitor.visits != visits:
            visitor.visits = visits
            changes["visits"] = visits
        variables = values.get("variables")
        if isinstance(variables, Mapping) and dict(variables) != visitor.variables:
            visitor.variables = {**visitor.variables, **variables}
            changes["variables"] = dict(visitor.variables)
        return changes

    def open_chat_of(self, visitor: VisitorRecord) -> ChatRecord | None:
        """Return the visitor's chat if it is still pending or open."""
        chat = self.chats.get(visitor.chat_id) if visitor.chat_id else None
        return chat if chat is not None and chat.is_open else None

    # -- chats ----------------------------------------------------------------------------

    def open_chat(self, visitor: VisitorRecord) -> ChatRecord:
        """Start a new pending chat for the visitor (their first message does this)."""
        chat = ChatRecord(
            id=self.new_id(CHAT_ID_PREFIX), visitor_id=visitor.id, created_at=self.now_iso()
        )
        self.chats[chat.id] = chat
        visitor.chat_id = chat.id
        self.log(chat, kind="event", by="visitor", event="chat.opened")
        return chat

    def add_message(
        self,
        chat: ChatRecord,
        *,
        sub_type: str,
        text: str | None,
        agent_id: str | None = None,
        type: Literal["message", "event", "note"] = "message",
        content_type: str = "text",
        data: Any = None,
    ) -> MessageRecord:
        """Store a message in the chat and write it to the transcript."""
        message = MessageRecord(
            id=self.new_id(MESSAGE_ID_PREFIX),
            chat_id=chat.id,
            visitor_id=chat.visitor_id,
            type=type,
            sub_type=sub_type,
            content_type=content_type,
            created_at=self.now_iso(),
            text=text,
            data=data,
            agent_id=agent_id,
            group_id=chat.group_id,
        )
        chat.messages.append(message)
        # System messages (join, leave, close, rating) are logged as their events instead.
        if type == "message" and sub_type in ("contact", "agent"):
            by: Speaker = "visitor" if sub_type == "contact" else "agent"
            self.log(
                chat, kind="message", by=by, agent_id=agent_id, text=text, message_id=message.id
            )
        return message

    def record_typing(
        self, chat: ChatRecord, *, by: Speaker, is_typing: bool, agent_id: str | None = None
    ) -> None:
        """Write a typing on/off entry to the transcript."""
        self.log(chat, kind="typing", by=by, agent_id=agent_id, is_typing=is_typing)

    def assign(
        self, chat: ChatRecord, agent_id: str, *, by: str | None = None
    ) -> MessageRecord | None:
        """Add an agent to the chat; return the event message, or None if already in.

        The agent joined on its own (``agent_join {agentId}``), or was assigned by agent ``by``
        (``agent_assign {assigned, assignedBy}``): S2 ``MessageEventContent``.
        """
        if agent_id in chat.assigned_ids:
            return None
        chat.assigned_ids.append(agent_id)
        if chat.status == "pending":
            chat.status = "open"
        if by is None:
            content_type, data = "agent_join", {"agentId": agent_id}
            event = "chat.agent_joined"
        else:
            content_type, data = "agent_assign", {"assigned": agent_id, "assignedBy": by}
            event = "chat.agent_assigned"
        message = self.add_message(
            chat, sub_type="system", text=None, type="event", content_type=content_type, data=data
        )
        self.log(chat, kind="event", by="agent", agent_id=agent_id, event=event)
        return message

    def unassign(
        self, chat: ChatRecord, agent_id: str, *, by: str | None = None
    ) -> MessageRecord | None:
        """Remove an agent from the chat; return the event message, or None if not in.

        ``agent_leave {agentId}``, or ``agent_unassign {unassigned, unassignedBy}`` when agent
        ``by`` did it (S2 ``MessageEventContent``).
        """
        if agent_id not in chat.assigned_ids:
            return None
        chat.assigned_ids.remove(agent_id)
        if by is None:
            content_type, data = "agent_leave", {"agentId": agent_id}
            event = "chat.agent_left"
        else:
            content_type, data = "agent_unassign", {"unassigned": agent_id, "unassignedBy": by}
            event = "chat.agent_unassigned"
        message = self.add_message(
            chat, sub_type="system", text=None, type="event", content_type=content_type, data=data
        )
        self.log(chat, kind="event", by="agent", agent_id=agent_id, event=event)
        return message

    def close(
        self, chat: ChatRecord, *, close_type: str, agent_id: str | None = None
    ) -> MessageRecord:
        """Close the chat; return the close event message."""
        chat.status = "closed"
        chat.close_type = close_type
        chat.closed_at = self.now_iso()
        data: dict[str, Any] = {"closeType": close_type}
        if agent_id is not None:
            data["agentId"] = agent_id
        message = self.add_message(
            chat, sub_type="system", text=None, type="event", content_type="chat_close", data=data
        )
        by: Speaker = "agent" if agent_id is not None else "visitor"
        self.log(chat, kind="event", by=by, agent_id=agent_id, event="chat.closed")
        return message

    def rate(self, chat: ChatRecord, *, value: int | None, text: str | None) -> MessageRecord:
        """Store the visitor's rating; return the rating message."""
        chat.rating = (value, text)
        message = self.add_message(
            chat,
            sub_type="system",
            text=text,
            type="message",
            content_type="rate_form",
            data={"value": value, "text": text},
        )
        self.log(chat, kind="event", by="visitor", event="chat.rated", text=text)
        return message

    def mark_read(self, chat: ChatRecord) -> None:
        """Note that the visitor has read the chat."""
        chat.visitor_read_at = self.now_iso()
        self.log(chat, kind="event", by="visitor", event="chat.read")

    # -- transcript -----------------------------------------------------------------------

    def log(
        self,
        chat: ChatRecord,
        *,
        kind: Literal["message", "typing", "event"],
        by: Speaker,
        agent_id: str | None = None,
        text: str | None = None,
        is_typing: bool | None = None,
        message_id: str | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        """Append one transcript entry (the JSON shape the control API returns)."""
        entry: dict[str, Any] = {
            "seq": self.next_seq(),
            "t": self.now(),
            "chatId": chat.id,
            "visitorId": chat.visitor_id,
            "kind": kind,
            "by": by,
        }
        if agent_id is not None:
            entry["agentId"] = agent_id
        if text is not None:
            entry["text"] = text
        if is_typing is not None:
            entry["is"] = is_typing
        if message_id is not None:
            entry["messageId"] = message_id
        if event is not None:
            entry["event"] = event
        self.transcript.append(entry)
        return entry

    def transcript_of(self, chat_id: str) -> list[dict[str, Any]]:
        """Return the chat's transcript entries, in order."""
        return [entry for entry in self.transcript if entry["chatId"] == chat_id]
