"""One class per request (PROTOCOL.md §2 agent side, §4 visitor side) and the replies.

Requests are built by our own code, so decoding them (the sandbox's job) is strict: an unknown
key, a missing field or a wrong type is a ``DecodeError``, which is how the tests catch a
malformed outbound payload. Replies come from the server and are tolerant like every other
wire model (unknown fields kept in ``extra``).

Secrets (the account key, auth tokens, device tokens) are ``repr=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import attrs

from agentbot.api.assumed import ChatMessage
from agentbot.api.base import Request
from agentbot.api.models import EMPTY_MAPPING, Account, Agent, Chat, Message, Visitor, extra_field

__all__ = [
    "AGENT_CONNECT_VERSION",
    "AGENT_REQUESTS",
    "VISITOR_REQUESTS",
    "AgentConnect",
    "AgentConnectReply",
    "AgentLogout",
    "ChatClose",
    "ChatMessage",
    "ChatRate",
    "ChatRead",
    "ChatTyping",
    "Request",
    "TrackVisitors",
    "VisitorChatMessage",
    "VisitorChatTyping",
    "VisitorConnect",
    "VisitorConnectReply",
    "VisitorGet",
    "VisitorUpdate",
    "VisitorValues",
]

AGENT_CONNECT_VERSION = 5
"""The ``version`` the seed says ``agent.connect`` must carry."""


# --- replies ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AgentConnectReply:
    """``agent.connect``'s reply: ``{serverVersion, agent, account: {agents[], groups[]}}``."""

    server_version: int
    agent: Agent
    account: Account
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class VisitorConnectReply:
    """``visitor.connect``'s reply (§4). ``browser`` is raw (``null`` or an object)."""

    server_version: int
    visitor: Visitor
    browser: Any = None
    account: Account
    chat: Chat | None = None
    extra: Mapping[str, Any] = extra_field()


# --- agent side (§2) -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AgentConnect(Request):
    """Authenticate the connection; must be the first request on every (re)connect (§2).

    Either ``auth_token`` or the legacy ``authtoken`` authenticates; the device fields only
    matter for mobile push. ``track_visitors`` is the connection's starting value (the server
    assumes false when absent).
    """

    name: ClassVar[str] = "agent.connect"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = AgentConnectReply
    version: int = AGENT_CONNECT_VERSION
    id: str
    key: str = attrs.field(repr=False)
    auth_token: str | None = attrs.field(default=None, repr=False)
    authtoken: str | None = attrs.field(default=None, repr=False)
    device_token: str | None = attrs.field(default=None, repr=False)
    device_type: str | None = None
    device_platform: str | None = None
    track_visitors: bool | None = None
    bundle_version: str | None = None


@attrs.frozen(kw_only=True)
class AgentLogout(Request):
    """Log out and drop the device token registered by ``agent.connect``; replies ``true``."""

    name: ClassVar[str] = "agent.logout"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = bool
    device_platform: str | None = None
    device_token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class TrackVisitors(Request):
    """Turn visitor events on or off for this connection; the payload is a bare boolean."""

    name: ClassVar[str] = "agent.track_visitors"
    expects_ack: ClassVar[bool] = False
    reply_type: ClassVar[type[Any] | None] = None
    enabled: bool


@attrs.frozen(kw_only=True)
class ChatTyping(Request):
    """Show or hide the agent's typing in a chat: ``{chatId, visitorId, typing: {is}}``.

    ``text`` exists because the official SDK sends ``typing.text: null``; agentbot leaves it
    out when ``None``.
    """

    name: ClassVar[str] = "chat.typing"
    expects_ack: ClassVar[bool] = False
    reply_type: ClassVar[type[Any] | None] = None
    chat_id: str
    visitor_id: str
    is_typing: bool
    text: str | None = None


@attrs.frozen(kw_only=True)
class VisitorGet(Request):
    """Fetch a visitor: ``{id, ...options}`` (only the name is known from the official SDK)."""

    name: ClassVar[str] = "visitor.get"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = Visitor
    id: str
    options: Mapping[str, Any] = EMPTY_MAPPING


AGENT_REQUESTS: Mapping[str, type[Request]] = {
    cls.name: cls
    for cls in (AgentConnect, AgentLogout, TrackVisitors, ChatTyping, ChatMessage, VisitorGet)
}
"""Wire name → request class, for what an agent connection may send."""


# --- visitor side (§4) -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class VisitorConnect(Request):
    """A website visitor's first request on every (re)connect. ``id`` is ``null`` when new.

    The fields are the official SDK's ``ConnectOptions`` (smartsupp-websocket 1.2.2) plus
    ``triggerable``: on a reconnect the SDK sends back every identity field of the previous
    reply's ``visitor`` but ``bannedAt``/``chatId``/``status``, and ``triggerable`` is one of its
    identity keys. ``created_at`` is a JS number (a timestamp); ``properties`` are, like
    ``variables``, string/number/boolean values kept raw. Fields are declared in the order the
    SDK sends them, so an encoded request matches its frames key for key.
    """

    name: ClassVar[str] = "visitor.connect"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = VisitorConnectReply
    # The SDK's own first five (always sent, null outside a browser), then its ``data``.
    page_url: str | None = None
    page_title: str | None = None
    referer: str | None = None
    domain: str | None = None
    bundle_version: str | None = None
    id: str | None = None
    key: str = attrs.field(repr=False)
    visitor_name: str | None = None  # wire "name": the class's ``name`` is the event name
    email: str | None = None
    phone: str | None = None
    lang: str | None = None
    group: str | None = None
    visits: int | None = None
    created_at: int | None = None
    variables: Mapping[str, Any] | None = None
    properties: Mapping[str, Any] | None = None
    triggerable: bool | None = None


@attrs.frozen(kw_only=True)
class VisitorChatMessage(Request):
    """The visitor writes: ``{content: {type: "text", text}, type?, isOffline?, preventOpenChat?}``.

    Replied with the message. ``sender_type`` is the wire ``type`` (SDK ``MessageOptions.type``:
    ``"contact"`` or ``"bot"``); a field named ``type`` would shadow the builtin that this
    class's own annotations (``ClassVar[type[Any] | None]``) are resolved with.
    """

    name: ClassVar[str] = "chat.message"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = Message
    text: str
    sender_type: Literal["contact", "bot"] | None = None
    is_offline: bool | None = None
    prevent_open_chat: bool | None = None


@attrs.frozen(kw_only=True)
class VisitorChatTyping(Request):
    """The visitor types: ``{typing: {is, text}}`` (``text`` is sent even when ``null``)."""

    name: ClassVar[str] = "chat.typing"
    expects_ack: ClassVar[bool] = False
    reply_type: ClassVar[type[Any] | None] = None
    is_typing: bool
    text: str | None = None


@attrs.frozen(kw_only=True)
class ChatRead(Request):
    """The visitor read the chat; payload ``null``, no ack."""

    name: ClassVar[str] = "chat.read"
    expects_ack: ClassVar[bool] = False
    reply_type: ClassVar[type[Any] | None] = None


@attrs.frozen(kw_only=True)
class ChatClose(Request):
    """The visitor closes the chat; payload ``null``, acked with no result."""

    name: ClassVar[str] = "chat.close"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = None


@attrs.frozen(kw_only=True)
class ChatRate(Request):
    """The visitor rates the chat: ``{messageId, value?, text?}``, acked."""

    name: ClassVar[str] = "chat.rate"
    expects_ack: ClassVar[bool] = True
    reply_type: ClassVar[type[Any] | None] = None
    message_id: str
    value: int | None = None
    text: str | None = None


@attrs.frozen(kw_only=True)
class VisitorValues:
    """What ``visitor.update`` may change: ``{name?, email?, phone?, lang?, group?, ...}``.

    The SDK's ``UpdateOptions`` plus ``phone``: ``updateVisitorIdentity`` forwards any key, and
    ``phone`` is an identity field of the SDK's ``Visitor``.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    lang: str | None = None
    group: str | None = None
    variables: Mapping[str, Any] | None = None
    properties: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class VisitorUpdate(Request):
    """The visitor updates its details: ``{values: {...}}``, no ack."""

    name: ClassVar[str] = "visitor.update"
    expects_ack: ClassVar[bool] = False
    reply_type: ClassVar[type[Any] | None] = None
    values: VisitorValues


VISITOR_REQUESTS: Mapping[str, type[Request]] = {
    cls.name: cls
    for cls in (
        VisitorConnect,
        VisitorChatMessage,
        VisitorChatTyping,
        ChatRead,
        ChatClose,
        ChatRate,
        VisitorUpdate,
    )
}
"""Wire name → request class, for what a visitor connection may send."""
