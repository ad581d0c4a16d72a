"""Every shape agentbot still assumes because no vendor source shows it (PROTOCOL.md).

Keep them here, and only here, so they are easy to find and correct once real traffic shows
the truth. Shapes the vendor's own sources confirm live in ``agentbot.api.events`` and
``agentbot.api.models``, each citing its source (S1-S4: docs/PROTOCOL.md "Sources"). Two kinds
are left here:

- shapes agentbot defines (PROTOCOL.md marks them **assumed**): socket ``chat.message``
  (§2; REST ``POST /v2/conversations/{id}`` is the documented way), ``chat.opened`` on the agent
  side (the visitor side is ``{chatId}``, S3 widget; both are decoded), the ``chatId`` of
  ``chat.updated``, ``chat.visitor_typing``, ``visitor.disconnected``;
- events known only by name (S3 lists them, no source shows a payload): agentbot guesses the
  smallest shape and makes every guessed field optional, so a wrong guess lands in ``extra``
  instead of turning the event into a ``MalformedEvent``.

All of them are tolerant like every other wire model: unknown fields are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from agentbot.api.base import Request
from agentbot.api.models import EMPTY_MAPPING, Chat, Message, Typing, extra_field

__all__ = [
    "AccountDatalayerChanged",
    "AccountFeatureUsageChanged",
    "AccountPackageChanged",
    "AgentFeatureUsageChanged",
    "ChatAgentRead",
    "ChatAgentUnread",
    "ChatMessage",
    "ChatMessageDelivered",
    "ChatMessageDeliveryFailed",
    "ChatMessageSeen",
    "ChatOpened",
    "ChatUpdated",
    "ChatVisitorTyping",
    "ContactUpdated",
    "Logout",
    "VisitorDisconnected",
]


# --- Shapes PROTOCOL.md marks **assumed** ----------------------------------------------------


@attrs.frozen(kw_only=True)
class ChatOpened:
    """``chat.opened``: a chat began (a visitor's first message). **Assumed** on the agent side.

    Two shapes are decoded: ``{chat: {...}}`` (agentbot's assumption) and a bare ``{chatId}``
    (what the visitor side sends, S3 widget ``({ chatId: id }: ChatOpened)``). ``chat_id`` is
    always set (from ``chat.id`` when the payload has no ``chatId``); ``chat`` is None when the
    server sent only the id, so whoever needs the chat's details fetches them. Encoded as
    ``{chatId, chat?}``, which both kinds of reader understand.
    """

    name: ClassVar[str] = "chat.opened"
    chat_id: str
    chat: Chat | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatVisitorTyping:
    """``chat.visitor_typing`` ``{chatId, visitorId, typing: {is, text?}}``. **Assumed** (§3).

    No source shows it; the mirror ``chat.agent_typing`` is ``{chatId, typing: {is, text}}``
    (S2 ``Events.ChatAgentTyping``).
    """

    name: ClassVar[str] = "chat.visitor_typing"
    chat_id: str
    visitor_id: str | None = None
    typing: Typing
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorDisconnected:
    """``visitor.disconnected`` ``{id}``. **Assumed** (§3): S4's events page stops before it."""

    name: ClassVar[str] = "visitor.disconnected"
    id: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatMessage(Request):
    """Send a text message into a chat as the agent over the socket. **Assumed** (PROTOCOL.md §2).

    No vendor source has it: the agent client (S3) sends no ``chat.message`` and the
    documented way is REST ``POST /v2/conversations/{id}`` (S1 ``create_message``).

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
class ChatUpdated:
    """``chat.updated`` ``{chatId, changes}``: ``changes`` seen (S3 widget), ``chatId`` assumed.

    The widget reads ``changes.widgetOptions``, ``changes.isClosed``, ``changes.virtualAgent``.
    """

    name: ClassVar[str] = "chat.updated"
    chat_id: str
    changes: Mapping[str, Any] = EMPTY_MAPPING
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatAgentRead:
    """``chat.agent_read``. No payload published; assumed ``{chatId}`` (rest in ``extra``)."""

    name: ClassVar[str] = "chat.agent_read"
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
