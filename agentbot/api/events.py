"""One class per server event (PROTOCOL.md §3 agent side, §4 visitor side) and the name table.

Each class's ``name`` class variable is its wire event name; :data:`EVENT_TYPES` maps names to
classes. The classes here have shapes a vendor source shows, cited in their docstrings (S1 the
REST spec, S2 the visitor SDK, S3 the agent client and widget, S4 the socket docs: see
PROTOCOL.md "Sources"); shapes no source shows live in ``agentbot.api.assumed`` and are listed
in the table like the rest. Events the vendor has but agentbot does not model (``chat.served``,
``chat.message_updated`` …) decode as :class:`UnknownEvent`. ``bulk`` has no class: decoding
unpacks it into its items (``agentbot.api.decode_events``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

import attrs

from agentbot.api.assumed import (
    AccountDatalayerChanged,
    AccountFeatureUsageChanged,
    AccountPackageChanged,
    AgentFeatureUsageChanged,
    ChatAgentRead,
    ChatAgentUnread,
    ChatMessageDelivered,
    ChatMessageDeliveryFailed,
    ChatMessageSeen,
    ChatOpened,
    ChatUpdated,
    ChatVisitorTyping,
    ContactUpdated,
    Logout,
    VisitorDisconnected,
)
from agentbot.api.errors import ApiError, DecodeError, api_error_from_wire
from agentbot.api.models import (
    EMPTY_MAPPING,
    Agent,
    ChatCloseData,
    Message,
    Rating,
    Typing,
    Visitor,
    extra_field,
)

__all__ = [
    "BULK_EVENT",
    "EVENT_TYPES",
    "AccountUpdated",
    "AgentAssigned",
    "AgentConnected",
    "AgentDisconnected",
    "AgentJoined",
    "AgentLeft",
    "AgentRemoved",
    "AgentUnassigned",
    "AgentUpdated",
    "ChatAgentTyping",
    "ChatClosed",
    "ChatContactRead",
    "ChatDeleted",
    "ChatMessageReceived",
    "ChatRated",
    "ChatVisitorClosed",
    "MalformedEvent",
    "ServerErrorEvent",
    "ServerEvent",
    "UnknownEvent",
    "VisitorConnected",
    "VisitorUpdated",
    "agent_ids",
]

BULK_EVENT = "bulk"
"""The wire name of the event whose payload is a list of ``{name, data}`` events (§3)."""


def agent_ids(value: Any) -> tuple[str, ...]:
    """Collect agent ids from an ``assigned``-style value whose shape is not published.

    Accepts an id, an agent object ``{id, ...}``, or a list of either; anything else gives
    ``()``. Lets the runtime spot a human being assigned whatever the server sends.
    """
    items = value if isinstance(value, list | tuple) else (value,)
    found: list[str] = []
    for item in items:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("id"), str):
            found.append(item["id"])
        elif isinstance(item, Agent):
            found.append(item.id)
    return tuple(found)


# --- chat ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ChatMessageReceived:
    """``chat.message_received`` ``{chatId, message}`` (S2 ``Events.ChatMessageReceived``).

    Check ``message.is_from_visitor`` before answering: the bot's own messages come back
    through this event too ("with some delay", S2 docs), and so do agents' notes.
    """

    name: ClassVar[str] = "chat.message_received"
    chat_id: str
    message: Message
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatClosed:
    """``chat.closed`` ``{chatId, closeType, message}`` (S2 ``Events.ChatClosed``).

    ``close_type`` is one of :class:`~agentbot.api.models.CloseType` (``visitor_close``,
    ``agent_close``, ``bot_close``) or another string, or None; the message is a ``subType``
    ``"system"`` event whose content is ``chat_close {closeType, agentId?}`` (the widget reads
    the close type there). After it the bot must not answer in this chat.
    """

    name: ClassVar[str] = "chat.closed"
    chat_id: str
    close_type: str | None = None
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def closed_by(self) -> str | None:
        """The close type: ``closeType``, else the one in the message's ``chat_close`` content."""
        if self.close_type is not None or self.message is None:
            return self.close_type
        data = self.message.content.typed_data
        return data.close_type if isinstance(data, ChatCloseData) else None


@attrs.frozen(kw_only=True)
class ChatVisitorClosed:
    """``chat.visitor_closed`` ``{chatId?, message}``: the visitor closed the chat window.

    The widget (S3) reads ``{ message }``; ``chatId`` is not confirmed, so when it is missing it
    is taken from ``message.chatId``.
    """

    name: ClassVar[str] = "chat.visitor_closed"
    chat_id: str
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatContactRead:
    """``chat.contact_read`` ``{chatId, lastReadAt, byId}`` (S2 ``Events.ChatRead``)."""

    name: ClassVar[str] = "chat.contact_read"
    chat_id: str
    last_read_at: str | None = None
    by_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatDeleted:
    """``chat.deleted`` ``{chatId}`` (S2 ``Events.ChatDeleted``)."""

    name: ClassVar[str] = "chat.deleted"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatRated:
    """``chat.rated`` ``{chatId, rating, message}``: the visitor rated the chat (S2).

    ``rating.value`` is on the 1/3/5 scale (S1); the message is a ``subType`` ``"system"``
    message with content ``rate_form {value, text}``.
    """

    name: ClassVar[str] = "chat.rated"
    chat_id: str
    rating: Rating
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatAgentTyping:
    """``chat.agent_typing`` ``{chatId, typing: {is, text}}`` (visitor side, §4; S2)."""

    name: ClassVar[str] = "chat.agent_typing"
    chat_id: str
    typing: Typing
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentJoined:
    """``chat.agent_joined`` ``{chatId, agent, message}``: a (possibly human) agent joined.

    S2 ``Events.ChatAgentJoined``; the message is an event with content ``agent_join {agentId}``.
    """

    name: ClassVar[str] = "chat.agent_joined"
    chat_id: str
    agent: Agent
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentLeft:
    """``chat.agent_left`` ``{chatId, agent, message}`` (S2; content ``agent_leave {agentId}``)."""

    name: ClassVar[str] = "chat.agent_left"
    chat_id: str
    agent: Agent
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentAssigned:
    """``chat.agent_assigned`` ``{chatId, assigned, assignedBy, message}`` (S2).

    S2 types ``assigned``/``assignedBy`` as agent objects and the message's content as
    ``agent_assign {assigned, assignedBy}`` with agent ids; they stay raw here, and
    :func:`agent_ids` reads ids out of an id, an agent object or a list of either.
    """

    name: ClassVar[str] = "chat.agent_assigned"
    chat_id: str
    assigned: Any = None
    assigned_by: Any = None
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def assigned_ids(self) -> tuple[str, ...]:
        """The ids of the agents assigned, whatever shape ``assigned`` came in."""
        return agent_ids(self.assigned)


@attrs.frozen(kw_only=True)
class AgentUnassigned:
    """``chat.agent_unassigned`` ``{chatId, unassigned, unassignedBy, message}`` (S2; as above)."""

    name: ClassVar[str] = "chat.agent_unassigned"
    chat_id: str
    unassigned: Any = None
    unassigned_by: Any = None
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def unassigned_ids(self) -> tuple[str, ...]:
        """The ids of the agents unassigned, whatever shape ``unassigned`` came in."""
        return agent_ids(self.unassigned)


# --- agents, account -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AgentConnected:
    """``agent.connected``: another agent came online (S4 ``AgentConnectedEvent``).

    S4: the full agent ``{id, status, groups, email, nickname, fullname, description, avatar,
    connectedAt}``. Every field is optional, so an ``{id}`` alone (older sandboxes) still fits.
    """

    name: ClassVar[str] = "agent.connected"
    id: str | None = None
    status: str | None = None
    groups: tuple[str, ...] = ()
    email: str | None = None
    nickname: str | None = None
    fullname: str | None = None
    description: str | None = None
    avatar: str | None = None
    connected_at: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentDisconnected:
    """``agent.disconnected`` ``{id}`` (S4 ``AgentDisconnectedEvent``)."""

    name: ClassVar[str] = "agent.disconnected"
    id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentUpdated:
    """``agent.updated`` ``{id, changes}`` (S4); ``changes`` maps wire field names to new values.

    S4 lists ``status, groups, email, nickname, fullname, descriptin (sic), avatar``.
    """

    name: ClassVar[str] = "agent.updated"
    id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentRemoved:
    """``agent.removed`` ``{id}`` (visitor side, §4; S2 ``Events.AgentRemoved``)."""

    name: ClassVar[str] = "agent.removed"
    id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountUpdated:
    """``account.updated`` ``{status?}`` (visitor side, §4; S2): the account went online/offline."""

    name: ClassVar[str] = "account.updated"
    status: str | None = None
    extra: Mapping[str, Any] = extra_field()


# --- visitors --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class VisitorConnected:
    """``visitor.connected``: a visitor came to the site (or opened a chat).

    S4 (the socket events page) shows the payload as the **flat** visitor object
    ``{id, persisted, status, chatId, contactId, createdAt, connectedAt, lang, name, email,
    note, bannedAt, domain, pageUrl, referer, locIp, locCode, locCountry, locCity, viewsCount,
    chatsCount, visitsCount, servedBy, userAgent, browser, …}``; agentbot's older assumption
    ``{visitor: {...}}`` is decoded too. Encoded flat, like the real server, unless ``extra``
    holds fields beside the visitor (only the wrapped form has room for them).
    """

    name: ClassVar[str] = "visitor.connected"
    visitor: Visitor
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorUpdated:
    """``visitor.updated`` ``{id, changes}`` (S2 ``Events.VisitorUpdated``: visitor side).

    ``changes`` maps wire field names (camelCase) to their new raw values (a partial visitor).
    """

    name: ClassVar[str] = "visitor.updated"
    id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


# --- errors and the unknown -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ServerErrorEvent:
    """``server.error`` ``{message, code?, type?, event?}`` (S2): an error tied to no request."""

    name: ClassVar[str] = "server.error"
    message: str
    code: int | None = None
    type: str | None = None
    event: str | None = None
    extra: Mapping[str, Any] = extra_field()

    def as_error(self) -> ApiError:
        """Return the typed error this event reports (``AuthFailure``, ``NotFound``, …)."""
        wire: dict[str, Any] = {"message": self.message, "type": self.type, "event": self.event}
        if self.code is not None:
            wire["code"] = self.code
        return api_error_from_wire(wire)


@attrs.frozen(kw_only=True)
class UnknownEvent:
    """An event agentbot has no class for, kept raw (PROTOCOL.md §3 decoding rule)."""

    name: str
    data: Any = None


@attrs.frozen(kw_only=True)
class MalformedEvent:
    """A known event whose payload did not fit its class; ``error`` names the field.

    Decoding reports it instead of raising, so one bad event never stops the connection nor
    drops its neighbours in a ``bulk``.
    """

    name: str
    data: Any = None
    error: DecodeError = attrs.field(eq=False)


ServerEvent: TypeAlias = (
    ChatMessageReceived
    | ChatOpened
    | ChatClosed
    | ChatUpdated
    | ChatDeleted
    | ChatVisitorClosed
    | ChatVisitorTyping
    | ChatAgentTyping
    | ChatRated
    | AgentJoined
    | AgentLeft
    | AgentAssigned
    | AgentUnassigned
    | ChatAgentRead
    | ChatContactRead
    | ChatAgentUnread
    | ChatMessageDelivered
    | ChatMessageDeliveryFailed
    | ChatMessageSeen
    | AgentConnected
    | AgentDisconnected
    | AgentUpdated
    | AgentRemoved
    | AgentFeatureUsageChanged
    | VisitorConnected
    | VisitorDisconnected
    | VisitorUpdated
    | ContactUpdated
    | AccountUpdated
    | AccountPackageChanged
    | AccountDatalayerChanged
    | AccountFeatureUsageChanged
    | ServerErrorEvent
    | Logout
    | UnknownEvent
    | MalformedEvent
)
"""Anything decoding a server event can give."""

EVENT_TYPES: Mapping[str, type[Any]] = {
    cls.name: cls
    for cls in (
        ChatMessageReceived,
        ChatOpened,
        ChatClosed,
        ChatUpdated,
        ChatDeleted,
        ChatVisitorClosed,
        ChatVisitorTyping,
        ChatAgentTyping,
        ChatRated,
        AgentJoined,
        AgentLeft,
        AgentAssigned,
        AgentUnassigned,
        ChatAgentRead,
        ChatContactRead,
        ChatAgentUnread,
        ChatMessageDelivered,
        ChatMessageDeliveryFailed,
        ChatMessageSeen,
        AgentConnected,
        AgentDisconnected,
        AgentUpdated,
        AgentRemoved,
        AgentFeatureUsageChanged,
        VisitorConnected,
        VisitorDisconnected,
        VisitorUpdated,
        ContactUpdated,
        AccountUpdated,
        AccountPackageChanged,
        AccountDatalayerChanged,
        AccountFeatureUsageChanged,
        ServerErrorEvent,
        Logout,
    )
}
"""Wire event name → event class, for every event agentbot knows (``bulk`` aside)."""
