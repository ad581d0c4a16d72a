"""One class per server event (PROTOCOL.md §3 agent side, §4 visitor side) and the name table.

Each class's ``name`` class variable is its wire event name; :data:`EVENT_TYPES` maps names to
classes. Shapes PROTOCOL.md only assumes (or does not give) live in ``agentbot.api.assumed``
and are listed in the table like the rest. ``bulk`` has no class: decoding unpacks it into
its items (``agentbot.api.decode_events``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

import attrs

from agentbot.api.assumed import (
    AccountDatalayerChanged,
    AccountFeatureUsageChanged,
    AccountPackageChanged,
    AgentConnected,
    AgentDisconnected,
    AgentFeatureUsageChanged,
    ChatAgentRead,
    ChatAgentUnread,
    ChatClosed,
    ChatContactRead,
    ChatMessageDelivered,
    ChatMessageDeliveryFailed,
    ChatMessageSeen,
    ChatOpened,
    ChatUpdated,
    ChatVisitorClosed,
    ChatVisitorTyping,
    ContactUpdated,
    Logout,
    VisitorConnected,
    VisitorDisconnected,
    VisitorUpdated,
)
from agentbot.api.errors import ApiError, DecodeError, api_error_from_wire
from agentbot.api.models import EMPTY_MAPPING, Agent, Message, Rating, Typing, extra_field

__all__ = [
    "BULK_EVENT",
    "EVENT_TYPES",
    "AccountUpdated",
    "AgentAssigned",
    "AgentJoined",
    "AgentLeft",
    "AgentRemoved",
    "AgentUnassigned",
    "AgentUpdated",
    "ChatAgentTyping",
    "ChatDeleted",
    "ChatMessageReceived",
    "ChatRated",
    "MalformedEvent",
    "ServerErrorEvent",
    "ServerEvent",
    "UnknownEvent",
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
    """``chat.message_received`` ``{chatId, message}``: a new message in a chat.

    Check ``message.is_from_visitor`` before answering: the bot's own messages come back
    through this event too.
    """

    name: ClassVar[str] = "chat.message_received"
    chat_id: str
    message: Message
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatDeleted:
    """``chat.deleted`` ``{chatId}``."""

    name: ClassVar[str] = "chat.deleted"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatRated:
    """``chat.rated`` ``{chatId, rating, message}``: the visitor rated the chat."""

    name: ClassVar[str] = "chat.rated"
    chat_id: str
    rating: Rating
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatAgentTyping:
    """``chat.agent_typing`` ``{chatId, typing: {is, text}}`` (visitor side, §4)."""

    name: ClassVar[str] = "chat.agent_typing"
    chat_id: str
    typing: Typing
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentJoined:
    """``chat.agent_joined`` ``{chatId, agent, message}``: a (possibly human) agent joined."""

    name: ClassVar[str] = "chat.agent_joined"
    chat_id: str
    agent: Agent
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentLeft:
    """``chat.agent_left`` ``{chatId, agent, message}``."""

    name: ClassVar[str] = "chat.agent_left"
    chat_id: str
    agent: Agent
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentAssigned:
    """``chat.agent_assigned`` ``{chatId, assigned, assignedBy, message}``.

    The types of ``assigned`` and ``assigned_by`` are not published (an id, an agent object or
    a list of them), so they stay raw; :func:`agent_ids` reads ids out of either.
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
    """``chat.agent_unassigned`` ``{chatId, unassigned, unassignedBy, message}`` (raw, as above)."""

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
class AgentUpdated:
    """``agent.updated`` ``{id, changes}``; ``changes`` maps wire field names to new values."""

    name: ClassVar[str] = "agent.updated"
    id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentRemoved:
    """``agent.removed`` ``{id}`` (visitor side, §4)."""

    name: ClassVar[str] = "agent.removed"
    id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountUpdated:
    """``account.updated`` ``{status?}`` (visitor side, §4): the account went online/offline."""

    name: ClassVar[str] = "account.updated"
    status: str | None = None
    extra: Mapping[str, Any] = extra_field()


# --- errors and the unknown -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ServerErrorEvent:
    """``server.error`` ``{message, code?, type?, event?}``: an error tied to no request."""

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
