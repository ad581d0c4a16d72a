"""The shared objects of the Smartsupp API: agents, groups, accounts, visitors, messages.

Field names come from the official SDK (PROTOCOL.md §3 "Shared objects"), spelt in
snake_case; the converter (``agentbot.api.converter``) maps them to the wire's camelCase.
These classes carry no serialization rules ("keep 'em separated"): renames, nulls on the
wire and the keeping of unknown fields are all the converter's business.

Conventions every model here follows:

- ``attrs.frozen(kw_only=True)``: slotted, immutable, keyword-only; change with
  ``attrs.evolve``.
- Only the fields a bot cannot do without are required; the rest default to ``None`` (or an
  empty tuple / mapping), because real servers omit fields or send ``null`` for them.
- Every model that comes from the wire has ``extra``: the fields this version of agentbot does
  not know, with their wire names and raw JSON values, written back on encoding.
- Timestamps (``created_at``, ``connected_at``, ``banned_at``) stay the ISO 8601 strings the
  server sent, so a decoded object encodes back to exactly the same text;
  :func:`parse_timestamp` turns one into a ``datetime`` when a caller needs arithmetic.
- Lists are tuples (immutable, so a frozen model really is frozen).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs

__all__ = [
    "EMPTY_MAPPING",
    "RATING_BEST",
    "RATING_SCALE",
    "RATING_WORST",
    "Account",
    "AccountAgent",
    "Agent",
    "AgentAssignData",
    "AgentJoinData",
    "AgentLeaveData",
    "AgentUnassignData",
    "Attachment",
    "Chat",
    "ChatCloseData",
    "ChatStatus",
    "CloseType",
    "Content",
    "ContentData",
    "ContentType",
    "Group",
    "Message",
    "MessageSubType",
    "MessageType",
    "RateFormData",
    "Rating",
    "Typing",
    "Visitor",
    "VisitorStatus",
    "extra_field",
    "parse_timestamp",
]

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})
"""The shared, read-only empty mapping every ``extra`` (and other mapping field) defaults to."""


def _repr_mapping(value: Mapping[str, Any]) -> str:
    return repr(dict(value))  # ``{}``, not ``mappingproxy({})``


def extra_field() -> Any:
    """Declare the ``extra`` field: unknown wire fields, empty by default, no allocation.

    Left out of the hash (a mapping is unhashable), so a model whose other fields are
    hashable can still go in a set.
    """
    return attrs.field(default=EMPTY_MAPPING, hash=False, repr=_repr_mapping)


def parse_timestamp(value: str) -> datetime.datetime:
    """Parse one of the wire's ISO 8601 timestamps (``2019-10-04T14:03:21.877Z``).

    Models keep timestamps as the strings the server sent (exact round trips, no cost on the
    hot path); call this where a ``datetime`` is needed. Raises ``ValueError`` on bad input.
    """
    return datetime.datetime.fromisoformat(value)


# --- the vocabularies the vendor's sources spell out (PROTOCOL.md §3 "Values") ---------------
#
# Fields stay plain strings: a value a newer server adds decodes fine and is kept. These
# enums are the values known today; a ``StrEnum`` member compares equal to its string, so
# ``message.type == MessageType.NOTE`` works on a decoded message.


class MessageType(enum.StrEnum):
    """``message.type``: S1 ``message_type_enum`` (the REST spec) ``[message, note, event]``.

    ``note`` is an agent's internal note: never shown to the visitor, never visitor input. The
    visitor SDK (S2) knows only ``message`` and ``event``.
    """

    MESSAGE = "message"
    NOTE = "note"
    EVENT = "event"


class MessageSubType(enum.StrEnum):
    """``message.subType`` (S1 spells it ``sub_type``): who wrote it.

    S1 ``message_sub_type_enum`` ``[agent, contact, system, trigger, bot]``; S2 lacks ``bot``.
    """

    AGENT = "agent"
    CONTACT = "contact"
    SYSTEM = "system"
    TRIGGER = "trigger"
    BOT = "bot"


class ContentType(enum.StrEnum):
    """``content.type``: S2 ``MessageContent.Type`` and ``MessageEventContent.Type``.

    ``text``, ``upload`` and ``rate_form`` are message contents; the ``agent_*`` and
    ``chat_close`` ones are the contents of ``type: "event"``, ``subType: "system"`` messages.
    """

    TEXT = "text"
    UPLOAD = "upload"
    RATE_FORM = "rate_form"
    AGENT_JOIN = "agent_join"
    AGENT_LEAVE = "agent_leave"
    AGENT_ASSIGN = "agent_assign"
    AGENT_UNASSIGN = "agent_unassign"
    CHAT_CLOSE = "chat_close"


class ChatStatus(enum.StrEnum):
    """``chat.status``: S1 ``conversation_status_enum`` ``[pending, open, served, closed]``.

    S2's ``ChatStatus`` lacks ``served``; the newer widget (S3) has it and a ``chat.served``
    event.
    """

    PENDING = "pending"
    OPEN = "open"
    SERVED = "served"
    CLOSED = "closed"


class CloseType(enum.StrEnum):
    """``closeType`` of ``chat.closed`` and of a ``chat_close`` event content.

    S2: ``'visitor_close' | 'agent_close' | string``; the widget (S3) also handles
    ``bot_close``. Other values may come: the field stays a string.
    """

    VISITOR_CLOSE = "visitor_close"
    AGENT_CLOSE = "agent_close"
    BOT_CLOSE = "bot_close"


class VisitorStatus(enum.StrEnum):
    """An agent-side visitor's ``status`` (S1 ``visitor_simple``, S4 ``visitor.connected``)."""

    ACTIVE = "active"
    CLICKED = "clicked"
    SERVED = "served"
    TRIGGERED = "triggered"
    UNSERVED = "unserved"


RATING_SCALE: tuple[int, ...] = (1, 3, 5)
"""The values a visitor can rate a chat with: S1 ``conversation_rating.value`` ``enum [1, 3, 5]``.

Other numbers are still decoded and kept (S2 types the value as any number), never refused.
"""
RATING_BEST = 5
"""S1: "5 is best"."""
RATING_WORST = 1
"""S1: "1 worst"."""


@attrs.frozen(kw_only=True)
class Group:
    """An account's agent group (``{key, name}``), used to route chats."""

    key: str
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountAgent:
    """One agent of the account as ``agent.connect``'s reply lists them (``account.agents``).

    The seed documents ``{id, nickname, fullname, description, avatar}``; its example also
    carries ``status`` and ``groups``.
    """

    id: str
    status: str | None = None
    nickname: str | None = None
    fullname: str | None = None
    description: str | None = None
    avatar: str | None = None
    groups: tuple[str, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Agent:
    """An agent as the server describes it: the connected agent itself, or one joining a chat.

    ``status`` is ``"online"`` or ``"offline"``; ``groups`` holds group keys.
    """

    id: str
    status: str | None = None
    groups: tuple[str, ...] = ()
    email: str | None = None
    nickname: str | None = None
    fullname: str | None = None
    description: str | None = None
    avatar: str | None = None
    connected_at: str | None = None
    disabled: bool | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Account:
    """The account: its agents and groups (and, on the visitor side, its online ``status``)."""

    status: str | None = None
    agents: tuple[AccountAgent, ...] = ()
    groups: tuple[Group, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Visitor:
    """A website visitor, as the visitor's own client or as agents see it.

    The visitor side (S2 ``Visitor``) carries ``visits``; the agent side (S4
    ``visitor.connected``, S1 ``visitor``/``visitor_simple``) carries counts
    (``visits_count``, ``views_count``, ``chats_count``), a ``status`` (see
    :class:`VisitorStatus`), ``served_by``, ``contact_id``, ``connected_at``, the ``loc_*``
    location fields, ``domain`` and ``user_agent``. Everything is optional: each side sends its
    own subset. :attr:`visit_count` reads whichever count is there.
    """

    id: str
    chat_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    lang: str | None = None
    group: str | None = None
    banned_at: str | None = None
    visits: int | None = None
    variables: Mapping[str, Any] = EMPTY_MAPPING
    page_url: str | None = None
    page_title: str | None = None
    referer: str | None = None
    status: str | None = None
    contact_id: str | None = None
    created_at: str | None = None
    connected_at: str | None = None
    domain: str | None = None
    loc_ip: str | None = None
    loc_code: str | None = None
    loc_country: str | None = None
    loc_city: str | None = None
    user_agent: str | None = None
    visits_count: int | None = None
    views_count: int | None = None
    chats_count: int | None = None
    served_by: tuple[Any, ...] = ()  # S4 example: []; the item type is not shown
    extra: Mapping[str, Any] = extra_field()

    @property
    def visit_count(self) -> int | None:
        """How many visits: the agent side's ``visitsCount``, else the visitor side's ``visits``."""
        return self.visits_count if self.visits_count is not None else self.visits


@attrs.frozen(kw_only=True)
class Content:
    """A message's content: ``type`` ``"text"`` with ``text``, or another type with ``data``.

    ``data`` stays raw (a new content type decodes fine); :attr:`typed_data` reads it as the
    typed object of a known :class:`ContentType`.
    """

    type: str
    text: str | None = None
    data: Any = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def typed_data(self) -> ContentData | None:
        """Return ``data`` as its typed class (``AgentJoinData`` …), or None.

        None for a content type without a class (``text`` included) and for ``data`` that does
        not fit its class; ``type`` and ``data`` always keep what the server sent.
        """
        # Imported here: the decoder is built from these models (api/rules, api/fastpath).
        from agentbot.api.contents import typed_content_data

        return typed_content_data(self)


@attrs.frozen(kw_only=True)
class Message:
    """A chat message, note or chat event (PROTOCOL.md §3 "Shared objects").

    ``type`` is ``"message"``, ``"note"`` (an agent's internal note) or ``"event"`` (see
    :class:`MessageType`); ``sub_type`` says who wrote it: ``"contact"`` (the visitor),
    ``"agent"`` (an agent, the bot included: compare ``agent_id``), ``"trigger"``, ``"system"``
    or ``"bot"`` (:class:`MessageSubType`). ``channel``, ``attachments`` and ``tags`` are kept
    raw: a surprise in them must not cost the message.
    """

    id: str
    type: str
    sub_type: str
    chat_id: str | None = None
    visitor_id: str | None = None
    agent_id: str | None = None
    group_id: str | None = None
    channel: Any = None  # S1/S2: an object {type, id}; older examples show a string
    created_at: str | None = None
    content: Content
    attachments: tuple[Any, ...] = ()
    tags: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = extra_field()

    @property
    def is_from_visitor(self) -> bool:
        """True for what the visitor wrote: a ``"message"`` of ``subType`` ``"contact"``.

        The one rule for "visitor input, which a bot may answer": a note (``type`` ``"note"``)
        or an event is never visitor input, whoever it names as its author.
        """
        return self.type == MessageType.MESSAGE and self.sub_type == MessageSubType.CONTACT

    @property
    def is_from_agent(self) -> bool:
        """True for what an agent wrote (notes too), the bot's own included: never answer these."""
        return self.sub_type == MessageSubType.AGENT

    @property
    def is_note(self) -> bool:
        """True for an internal note (``type`` ``"note"``): never shown to the visitor."""
        return self.type == MessageType.NOTE

    @property
    def is_event(self) -> bool:
        """True for a chat event (``type`` ``"event"``): a join, leave, assign or close."""
        return self.type == MessageType.EVENT

    @property
    def text(self) -> str | None:
        """The message's text, or ``None`` for a non-text content."""
        return self.content.text


@attrs.frozen(kw_only=True)
class Rating:
    """A chat rating: ``value`` and an optional text.

    The scale is :data:`RATING_SCALE` (1, 3, 5; 5 best, S1). A value off the scale is kept as
    sent; :attr:`is_on_scale` tells.
    """

    value: int
    text: str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def is_best(self) -> bool:
        """True for the best rating (5)."""
        return self.value == RATING_BEST

    @property
    def is_worst(self) -> bool:
        """True for the worst rating (1)."""
        return self.value == RATING_WORST

    @property
    def is_on_scale(self) -> bool:
        """True when the value is one of :data:`RATING_SCALE`."""
        return self.value in RATING_SCALE


@attrs.frozen(kw_only=True)
class Typing:
    """Typing activity as events carry it: wire ``{is, text?}`` (``is`` is a Python keyword)."""

    is_typing: bool
    text: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Chat:
    """A chat (a conversation in the REST API).

    Fields from S1 ``conversation`` (``id, status, visitorId, assignedIds[], agentIds[],
    groupId, contactId, createdAt, tags[], important, isClosed, isServed, isOffline, rating,
    messages[]`` …; the rest is kept in ``extra``) and S2 ``ChatInfo`` (``id, assignedIds,
    rating, status, messages``). ``status`` is one of :class:`ChatStatus`. Ids are kept raw in
    ``agent_ids`` (the REST API numbers its agents).
    """

    id: str
    visitor_id: str | None = None
    status: str | None = None
    assigned_ids: tuple[str, ...] = ()
    group_id: str | None = None
    created_at: str | None = None
    messages: tuple[Message, ...] = ()
    rating: Rating | None = None
    contact_id: str | None = None
    agent_ids: tuple[Any, ...] = ()
    tags: tuple[Any, ...] = ()
    important: bool | None = None
    is_closed: bool | None = None
    is_served: bool | None = None
    is_offline: bool | None = None
    extra: Mapping[str, Any] = extra_field()


# --- typed contents (S2 ``MessageContent``, ``MessageEventContent``) -------------------------
#
# Every field optional: a surprise in ``data`` gives a field of None, not a lost message.


@attrs.frozen(kw_only=True)
class AgentJoinData:
    """``agent_join`` ``{agentId}``: the content of ``chat.agent_joined``'s message."""

    agent_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentLeaveData:
    """``agent_leave`` ``{agentId}``: the content of ``chat.agent_left``'s message."""

    agent_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentAssignData:
    """``agent_assign`` ``{assigned, assignedBy}`` (agent ids): ``chat.agent_assigned``."""

    assigned: str | None = None
    assigned_by: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AgentUnassignData:
    """``agent_unassign`` ``{unassigned, unassignedBy}`` (agent ids): ``chat.agent_unassigned``."""

    unassigned: str | None = None
    unassigned_by: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ChatCloseData:
    """``chat_close`` ``{closeType, agentId?}``; ``agentId`` only for ``agent_close`` (S2)."""

    close_type: str | None = None
    agent_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class RateFormData:
    """``rate_form`` ``{value, text}``: a ``subType`` ``"system"`` message of ``chat.rated``."""

    value: int | None = None
    text: str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def is_best(self) -> bool:
        """True for the best rating (5, :data:`RATING_SCALE`)."""
        return self.value == RATING_BEST


@attrs.frozen(kw_only=True)
class Attachment:
    """An uploaded file: ``upload`` content's ``data`` and ``message.attachments[]`` items.

    S2 ``Attachment {type: image|file, fileName, fileType, url, expireAt, size, width, height,
    thumb400?}``.
    """

    type: str | None = None
    file_name: str | None = None
    file_type: str | None = None
    url: str | None = None
    expire_at: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    extra: Mapping[str, Any] = extra_field()


ContentData: TypeAlias = (
    AgentJoinData
    | AgentLeaveData
    | AgentAssignData
    | AgentUnassignData
    | ChatCloseData
    | RateFormData
    | Attachment
)
"""What :attr:`Content.typed_data` can give."""
