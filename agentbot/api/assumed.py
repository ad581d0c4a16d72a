"""Every shape agentbot assumes because the vendor has published none (PROTOCOL.md).

Keep them here, and only here, so they are easy to find and correct once real traffic shows
the truth. Each class says where its shape comes from. Two kinds live here:

- shapes PROTOCOL.md marks **assumed** (§2 ``chat.message``; §3 ``chat.opened``,
  ``chat.closed``, ``chat.visitor_typing``, ``visitor.connected``/``disconnected``/``updated``);
- events PROTOCOL.md names without any payload (§3): agentbot guesses the smallest shape and
  makes every guessed field optional, so a wrong guess lands in ``extra`` instead of turning
  the event into a ``MalformedEvent``.

All of them are tolerant like every other wire model: unknown fields are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from agentbot.api.base import Request
from agentbot.api.models import EMPTY_MAPPING, Message, Rating, Typing, Visitor, extra_field

__all__ = [
    "AccountDatalayerChanged",
    "AccountFeatureUsageChanged",
    "AccountPackageChanged",
    "AgentConnected",
    "AgentDisconnected",
    "AgentFeatureUsageChanged",
    "Chat",
    "ChatAgentRead",
    "ChatAgentUnread",
    "ChatClosed",
    "ChatContactRead",
    "ChatMessage",
    "ChatMessageDelivered",
    "ChatMessageDeliveryFailed",
    "ChatMessageSeen",
    "ChatOpened",
    "ChatUpdated",
    "ChatVisitorClosed",
    "ChatVisitorTyping",
    "ContactUpdated",
    "Logout",
    "VisitorConnected",
    "VisitorDisconnected",
    "VisitorUpdated",
]


# --- Shapes PROTOCOL.md marks **assumed** ----------------------------------------------------


@attrs.frozen(kw_only=True)
class Chat:
    """A chat. **Assumed** (PROTOCOL.md §3 ``chat.opened``, §4 ``visitor.connect`` reply).

    Agent side: ``{id, visitorId, status: "pending"|"open"|"closed", assignedIds[], groupId?,
    createdAt, messages?[]}``; the visitor side adds ``rating`` (``null`` until rated),
    ``readInfo`` and ``unreadInfo`` (kept in ``extra``) and has no ``visitorId``.
    """

    id: str
    visitor_id: str | None = None
    status: str | None = None
    assigned_ids: tuple[str, ...] = ()
    group_id: str | None = None
    created_at: str | None = None
    messages: tuple[Message, ...] = ()
    rating: Rating | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatOpened:
    """``chat.opened`` ``{chat}``. **Assumed** (PROTOCOL.md §3): a visitor's first message."""

    name: ClassVar[str] = "chat.opened"
    chat: Chat
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatClosed:
    """``chat.closed`` ``{chatId, closeType, message?}``. **Assumed** (PROTOCOL.md §3, §4).

    ``close_type`` is e.g. ``"visitor_close"`` or ``"agent_close"``; after it the bot must
    not answer in this chat.
    """

    name: ClassVar[str] = "chat.closed"
    chat_id: str
    close_type: str | None = None
    message: Message | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatVisitorTyping:
    """``chat.visitor_typing`` ``{chatId, visitorId, typing: {is, text?}}``. **Assumed** (§3)."""

    name: ClassVar[str] = "chat.visitor_typing"
    chat_id: str
    visitor_id: str | None = None
    typing: Typing
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorConnected:
    """``visitor.connected`` ``{visitor}``. **Assumed** (PROTOCOL.md §3)."""

    name: ClassVar[str] = "visitor.connected"
    visitor: Visitor
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorDisconnected:
    """``visitor.disconnected`` ``{id}``. **Assumed** (PROTOCOL.md §3)."""

    name: ClassVar[str] = "visitor.disconnected"
    id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorUpdated:
    """``visitor.updated`` ``{id, changes}``. **Assumed** (§3; §4 shows the same shape).

    ``changes`` maps wire field names (camelCase) to their new raw values.
    """

    name: ClassVar[str] = "visitor.updated"
    id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatMessage(Request):
    """Send a text message into a chat as the agent. **Assumed** payload (PROTOCOL.md §2).

    Wire: ``["chat.message", {chatId, visitorId, content: {type: "text", text}}]`` with an
    ack; the reply is the stored message (also **assumed**), which the visitor and every agent
    then receive as ``chat.message_received`` with ``subType`` ``"agent"``.
    """

    name: ClassVar[str] = "chat.message"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = Message
    chat_id: str
    visitor_id: str
    text: str


# --- Events PROTOCOL.md names without a payload: smallest guess, everything optional --------


@attrs.frozen(kw_only=True)
class AgentConnected:
    """``agent.connected``: an agent came online. No payload published; assumed ``{id}``."""

    name: ClassVar[str] = "agent.connected"
    id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentDisconnected:
    """``agent.disconnected``: an agent went offline. No payload published; assumed ``{id}``."""

    name: ClassVar[str] = "agent.disconnected"
    id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatUpdated:
    """``chat.updated``. No payload published; assumed ``{chatId, changes}`` like ``*.updated``."""

    name: ClassVar[str] = "chat.updated"
    chat_id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatVisitorClosed:
    """``chat.visitor_closed``: the visitor closed the chat window. Assumed ``{chatId}``."""

    name: ClassVar[str] = "chat.visitor_closed"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatAgentRead:
    """``chat.agent_read``. No payload published; assumed ``{chatId}`` (rest in ``extra``)."""

    name: ClassVar[str] = "chat.agent_read"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatContactRead:
    """``chat.contact_read``. No payload published; assumed ``{chatId}`` (rest in ``extra``)."""

    name: ClassVar[str] = "chat.contact_read"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatAgentUnread:
    """``chat.agent_unread``. No payload published; assumed ``{chatId}`` (rest in ``extra``)."""

    name: ClassVar[str] = "chat.agent_unread"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatMessageDelivered:
    """``chat.message_delivered``. No payload published; assumed ``{chatId}`` (+ ``extra``)."""

    name: ClassVar[str] = "chat.message_delivered"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatMessageDeliveryFailed:
    """``chat.message_delivery_failed``. No payload published; assumed ``{chatId}``."""

    name: ClassVar[str] = "chat.message_delivery_failed"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatMessageSeen:
    """``chat.message_seen``. No payload published; assumed ``{chatId}`` (rest in ``extra``)."""

    name: ClassVar[str] = "chat.message_seen"
    chat_id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ContactUpdated:
    """``contact.updated``. No payload published; assumed ``{id, changes}``, both optional."""

    name: ClassVar[str] = "contact.updated"
    id: str | None = None
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentFeatureUsageChanged:
    """``agent.feature_usage_changed``. No payload published: everything lands in ``extra``."""

    name: ClassVar[str] = "agent.feature_usage_changed"
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountPackageChanged:
    """``account.package_changed``. No payload published: everything lands in ``extra``."""

    name: ClassVar[str] = "account.package_changed"
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountDatalayerChanged:
    """``account.datalayer_changed``. No payload published: everything lands in ``extra``."""

    name: ClassVar[str] = "account.datalayer_changed"
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountFeatureUsageChanged:
    """``account.feature_usage_changed``. No payload published: everything lands in ``extra``."""

    name: ClassVar[str] = "account.feature_usage_changed"
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Logout:
    """``logout``: the server ended this session; stop, never reconnect in a loop.

    No payload published. Assumed ``{reason?}``; the converter also accepts no payload (or
    ``null``) and a bare string (taken as the reason), so a surprise shape can never hide a
    logout behind a ``MalformedEvent``.
    """

    name: ClassVar[str] = "logout"
    reason: str | None = None
    extra: Mapping[str, Any] = extra_field()
