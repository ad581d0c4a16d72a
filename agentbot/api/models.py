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
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

__all__ = [
    "EMPTY_MAPPING",
    "Account",
    "AccountAgent",
    "Agent",
    "Content",
    "Group",
    "Message",
    "Rating",
    "Typing",
    "Visitor",
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
    """A website visitor. Visitor-tracking events may add page data (``page_url`` …)."""

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
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Content:
    """A message's content: ``type`` ``"text"`` with ``text``, or another type with ``data``."""

    type: str
    text: str | None = None
    data: Any = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Message:
    """A chat message or chat event (PROTOCOL.md §3 "Shared objects").

    ``type`` is ``"message"`` or ``"event"``; ``sub_type`` says who wrote it: ``"contact"``
    (the visitor), ``"agent"`` (an agent, the bot included: compare ``agent_id``),
    ``"trigger"``, ``"system"`` or ``"bot"``. ``channel``, ``attachments`` and ``tags`` are
    kept raw: their shape is not published.
    """

    id: str
    type: str
    sub_type: str
    chat_id: str | None = None
    visitor_id: str | None = None
    agent_id: str | None = None
    group_id: str | None = None
    channel: Any = None  # unpublished shape: a string or an object such as {type, id}
    created_at: str | None = None
    content: Content
    attachments: tuple[Any, ...] = ()
    tags: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = extra_field()

    @property
    def is_from_visitor(self) -> bool:
        """True for what the visitor wrote (``subType`` ``"contact"``): what a bot answers."""
        return self.sub_type == "contact"

    @property
    def is_from_agent(self) -> bool:
        """True for what an agent wrote, the bot's own messages included: never answer these."""
        return self.sub_type == "agent"

    @property
    def text(self) -> str | None:
        """The message's text, or ``None`` for a non-text content."""
        return self.content.text


@attrs.frozen(kw_only=True)
class Rating:
    """A chat rating: ``value`` (a score; its scale is not published) and an optional text."""

    value: int
    text: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Typing:
    """Typing activity as events carry it: wire ``{is, text?}`` (``is`` is a Python keyword)."""

    is_typing: bool
    text: str | None = None
    extra: Mapping[str, Any] = extra_field()
