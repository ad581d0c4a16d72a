"""The wire rules both structuring paths share: names, nulls, shapes, value checks.

``agentbot.api.fastpath`` (the hot path) and the cattrs converter in
``agentbot.api.converter`` (error reports, unstructuring) must accept and reject exactly the
same data, so every rule they have in common is written once, here:

- **Names**: snake_case fields are camelCased on the wire (``chat_id`` ↔ ``chatId``);
  :data:`RENAMES` holds the irregular ones (legacy ``authtoken``, ``typing.is``).
- **Unknown fields**: a class with an ``extra`` field is *tolerant* (unknown keys go to
  ``extra`` and back); a class without one (the requests) is *strict* (unknown keys are an
  error).
- **Types**: primitives are checked, never coerced (``"5"`` is not an ``int``, ``1`` is not a
  ``str``, ``true`` is not an ``int``); ``null`` is accepted for every optional field and for
  a list or mapping field (read as empty). Lists become tuples.
- **Nulls out**: an optional field that is ``None`` is left off the wire, except those in
  :data:`KEEP_NULL`, which the seed or the official SDK send as ``null``. List and mapping
  fields are always written, empty or not (the seed's reply shows ``"groups": []``).
- **Flat requests**: ``chat.typing``, ``chat.message`` … are flat Python classes over a nested
  wire shape; private ``_*Wire`` classes describe the nesting (:data:`FLAT`) so that it is
  validated, and its fields named in errors, like any other class.
- **Variants**: where the vendor's sources show two spellings of one payload, a
  :data:`PREPARE` function rewrites the other spelling into the one the class describes before
  structuring (REST ``sub_type`` → ``subType``; a flat ``visitor.connected`` → ``{visitor}``;
  ``chatId`` taken from the nested object when absent), and :data:`FINISH` picks the wire form
  written back (``visitor.connected`` goes out flat, like the real server).
- **Odd payloads**: a bare boolean (``agent.track_visitors``), ``null`` (``chat.read``),
  ``{id, ...options}`` (``visitor.get``) and the unpublished ``logout`` have their own
  functions (:data:`SPECIAL_STRUCTURE`, :data:`SPECIAL_UNSTRUCTURE`).

Structure functions here take ``(value, type)`` like cattrs hooks. Their exceptions never
echo the value (it may be long, or a secret sent in the wrong field).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import attrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)

from agentbot.api.assumed import ChatMessage, ChatOpened, Logout
from agentbot.api.events import ChatVisitorClosed, VisitorConnected
from agentbot.api.models import EMPTY_MAPPING, Message, Typing
from agentbot.api.requests import (
    AgentConnect,
    ChatClose,
    ChatRead,
    ChatTyping,
    TrackVisitors,
    VisitorChatMessage,
    VisitorChatTyping,
    VisitorConnect,
    VisitorConnectReply,
    VisitorGet,
)

__all__ = [
    "FINISH",
    "FLAT",
    "KEEP_NULL",
    "PREPARE",
    "PRIMITIVE_HOOKS",
    "RENAMES",
    "SPECIAL_STRUCTURE",
    "SPECIAL_UNSTRUCTURE",
    "StructureHook",
    "UnstructureHook",
    "fields",
    "is_api_class",
    "is_homogeneous_tuple",
    "is_literal",
    "is_mapping",
    "is_optional",
    "is_tolerant",
    "literal_hook",
    "optional_hook",
    "optional_inner",
    "structure_mapping",
    "structure_optional_str",
    "to_camel",
    "tuple_hook",
    "wire_names",
]

T = TypeVar("T")
StructureHook = Callable[[Any, Any], Any]
UnstructureHook = Callable[[Any], Any]


def to_camel(name: str) -> str:
    """Return the wire (camelCase) spelling of a snake_case field name: ``chat_id`` → ``chatId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def fields(cl: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    """Return the attrs fields of ``cl`` (typed for mypy)."""
    found: tuple[attrs.Attribute[Any], ...] = attrs.fields(cl)
    return found


def is_api_class(t: Any) -> bool:
    """Tell whether ``t`` is one of our attrs classes (the converter's hook factories' domain)."""
    return isinstance(t, type) and attrs.has(t) and t.__module__.startswith("agentbot.api.")


def is_tolerant(cl: type[Any]) -> bool:
    """Tell whether ``cl`` keeps unknown fields (has ``extra``) rather than refusing them."""
    return any(a.name == "extra" for a in fields(cl))


# --- wire shapes of the flat requests ------------------------------------------------------


@attrs.frozen(kw_only=True)
class _TypingFlagWire:
    """``typing`` of an agent's ``chat.typing``: ``{is, text?}``, ``text`` left out if None."""

    is_typing: bool
    text: str | None = None


@attrs.frozen(kw_only=True)
class _ChatTypingWire:
    """Agent ``chat.typing``: ``{chatId, visitorId, typing: {is}}`` (seed)."""

    chat_id: str
    visitor_id: str
    typing: _TypingFlagWire


@attrs.frozen(kw_only=True)
class _VisitorTypingWire:
    """``typing`` of a visitor's ``chat.typing``: ``{is, text}``, ``text`` sent even if null."""

    is_typing: bool
    text: str | None = None


@attrs.frozen(kw_only=True)
class _VisitorChatTypingWire:
    """Visitor ``chat.typing``: ``{typing: {is, text}}`` (PROTOCOL.md §4)."""

    typing: _VisitorTypingWire


@attrs.frozen(kw_only=True)
class _TextContentWire:
    """A sent message's ``content``: ``{type: "text", text}``."""

    type: Literal["text"]
    text: str


@attrs.frozen(kw_only=True)
class _ChatMessageWire:
    """Agent ``chat.message``: ``{chatId, visitorId, content}`` (**assumed**, §2)."""

    chat_id: str
    visitor_id: str
    content: _TextContentWire


@attrs.frozen(kw_only=True)
class _VisitorChatMessageWire:
    """Visitor ``chat.message``: ``{content, type?, isOffline?, preventOpenChat?}`` (§4, SDK)."""

    content: _TextContentWire
    type: Literal["contact", "bot"] | None = None
    is_offline: bool | None = None
    prevent_open_chat: bool | None = None


def _chat_typing_to_wire(r: ChatTyping) -> _ChatTypingWire:
    flag = _TypingFlagWire(is_typing=r.is_typing, text=r.text)
    return _ChatTypingWire(chat_id=r.chat_id, visitor_id=r.visitor_id, typing=flag)


def _chat_typing_from_wire(w: _ChatTypingWire) -> ChatTyping:
    flag = w.typing
    return ChatTyping(
        chat_id=w.chat_id, visitor_id=w.visitor_id, is_typing=flag.is_typing, text=flag.text
    )


def _visitor_typing_to_wire(r: VisitorChatTyping) -> _VisitorChatTypingWire:
    return _VisitorChatTypingWire(typing=_VisitorTypingWire(is_typing=r.is_typing, text=r.text))


def _visitor_typing_from_wire(w: _VisitorChatTypingWire) -> VisitorChatTyping:
    return VisitorChatTyping(is_typing=w.typing.is_typing, text=w.typing.text)


def _chat_message_to_wire(r: ChatMessage) -> _ChatMessageWire:
    content = _TextContentWire(type="text", text=r.text)
    return _ChatMessageWire(chat_id=r.chat_id, visitor_id=r.visitor_id, content=content)


def _chat_message_from_wire(w: _ChatMessageWire) -> ChatMessage:
    return ChatMessage(chat_id=w.chat_id, visitor_id=w.visitor_id, text=w.content.text)


def _visitor_message_to_wire(r: VisitorChatMessage) -> _VisitorChatMessageWire:
    content = _TextContentWire(type="text", text=r.text)
    return _VisitorChatMessageWire(
        content=content,
        type=r.sender_type,
        is_offline=r.is_offline,
        prevent_open_chat=r.prevent_open_chat,
    )


def _visitor_message_from_wire(w: _VisitorChatMessageWire) -> VisitorChatMessage:
    return VisitorChatMessage(
        text=w.content.text,
        sender_type=w.type,
        is_offline=w.is_offline,
        prevent_open_chat=w.prevent_open_chat,
    )


FLAT: Mapping[type[Any], tuple[type[Any], Callable[[Any], Any], Callable[[Any], Any]]] = {
    ChatTyping: (_ChatTypingWire, _chat_typing_to_wire, _chat_typing_from_wire),
    VisitorChatTyping: (
        _VisitorChatTypingWire,
        _visitor_typing_to_wire,
        _visitor_typing_from_wire,
    ),
    ChatMessage: (_ChatMessageWire, _chat_message_to_wire, _chat_message_from_wire),
    VisitorChatMessage: (
        _VisitorChatMessageWire,
        _visitor_message_to_wire,
        _visitor_message_from_wire,
    ),
}
"""Flat request class → (its nested wire class, request → wire, wire → request)."""


# --- the naming and null tables --------------------------------------------------------------

RENAMES: Mapping[type[Any], Mapping[str, str]] = {
    AgentConnect: {"authtoken": "authtoken"},  # the legacy all-lower-case spelling (seed)
    Typing: {"is_typing": "is"},  # ``is`` is a Python keyword
    _TypingFlagWire: {"is_typing": "is"},
    _VisitorTypingWire: {"is_typing": "is"},
    VisitorConnect: {"visitor_name": "name"},  # ``name`` is the request's wire event name
}
"""Irregular wire names: class → {python field: wire key}. Every other field is camelCased."""

KEEP_NULL: Mapping[type[Any], frozenset[str]] = {
    # The seed's agent.connect example sends these three as null.
    AgentConnect: frozenset({"device_type", "device_token", "device_platform"}),
    # §4: "id: null or a known visitor id"; the official SDK always sends the page fields
    # (null outside a browser).
    VisitorConnect: frozenset({"id", "page_url", "page_title", "referer", "domain"}),
    VisitorConnectReply: frozenset({"browser"}),  # §4: "browser: null or {...}"
    _VisitorTypingWire: frozenset({"text"}),  # the official SDK sends {is, text}
    Typing: frozenset({"text"}),  # §4: chat.agent_typing {chatId, typing: {is, text}}
}
"""Optional fields written as ``null`` when ``None``; all others are left off the wire."""


_WIRE_NAMES: dict[type[Any], Mapping[str, str]] = {}


def wire_names(cl: type[Any]) -> Mapping[str, str]:
    """Return {python field: wire key} for one of our attrs classes (``extra`` excluded)."""
    names = _WIRE_NAMES.get(cl)
    if names is None:
        renames = RENAMES.get(cl, {})
        names = {a.name: renames.get(a.name, to_camel(a.name)) for a in fields(cl)}
        names.pop("extra", None)
        _WIRE_NAMES[cl] = names
    return names


# --- value checks ------------------------------------------------------------------------------


def _bad_type(expected: str, value: Any) -> TypeError:
    # Never echo the value itself: it may be long, or a secret sent in the wrong field.
    return TypeError(f"expected {expected}, got {type(value).__name__}")


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _bad_type("a string", value)


def structure_optional_str(value: Any, _: Any) -> str | None:
    """Accept a string or ``null`` (the most common optional field, hence its own function)."""
    if value is None or type(value) is str:
        return value
    raise _bad_type("a string or null", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise _bad_type("a boolean", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:  # bool is an int subclass, but not an integer on the wire
        return value
    raise _bad_type("an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _bad_type("a number", value)


PRIMITIVE_HOOKS: Mapping[type[Any], StructureHook] = {
    str: _structure_str,
    bool: _structure_bool,
    int: _structure_int,
    float: _structure_float,
}
"""Strict structure functions for the JSON primitives (no coercion)."""


def is_optional(t: Any) -> bool:
    """Tell whether ``t`` is ``X | None`` for a single ``X``."""
    args = typing.get_args(t)
    return (
        typing.get_origin(t) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    )


def optional_inner(t: Any) -> Any:
    """Return ``X`` of ``X | None``."""
    return next(a for a in typing.get_args(t) if a is not type(None))


def optional_hook(inner: Any, inner_hook: StructureHook) -> StructureHook:
    """Build the structure function of ``inner | None`` around ``inner``'s."""
    if inner is str:
        return structure_optional_str

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else inner_hook(value, inner)

    return structure_optional


def is_homogeneous_tuple(t: Any) -> bool:
    """Tell whether ``t`` is ``tuple[X, ...]`` (how models type lists)."""
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def tuple_hook(t: Any, item_hook: StructureHook | None, *, detailed: bool) -> StructureHook:
    """Build the structure function of ``tuple[X, ...]``: a list (``null`` → ``()``).

    ``item_hook`` is ``None`` for ``X`` = ``Any`` (items kept raw). ``detailed`` reports every
    bad item with its index, the way cattrs does, for the error-reporting converter.
    """
    item_type = typing.get_args(t)[0]

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()  # a null list reads as empty
        if type(value) is not list and type(value) is not tuple:
            raise _bad_type("a list", value)
        if item_hook is None:
            return tuple(value)
        if not detailed:
            return tuple([item_hook(item, item_type) for item in value])
        items, errors = [], []
        for index, item in enumerate(value):
            try:
                items.append(item_hook(item, item_type))
            except Exception as exc:
                note = IterableValidationNote(f"Structuring {t} @ index {index}", index, item_type)
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {t!r}", errors, t)
        return tuple(items)

    return structure_tuple


def is_mapping(t: Any) -> bool:
    """Tell whether ``t`` is ``Mapping[str, Any]`` (raw JSON objects: ``extra``, ``changes``)."""
    return typing.get_origin(t) in (Mapping, dict) and typing.get_args(t)[1:] == (Any,)


def structure_mapping(value: Any, _: Any) -> Mapping[str, Any]:
    """Accept a JSON object as is (raw values, not copied); ``null`` reads as empty."""
    if type(value) is dict:
        return value
    if value is None:
        return EMPTY_MAPPING
    raise _bad_type("a JSON object", value)


def is_literal(t: Any) -> bool:
    """Tell whether ``t`` is a ``Literal[...]`` of strings."""
    return typing.get_origin(t) is Literal


def literal_hook(t: Any) -> StructureHook:
    """Build the structure function of ``Literal["a", ...]``."""
    allowed = frozenset(typing.get_args(t))

    def structure_literal(value: Any, _: Any) -> Any:
        if type(value) is str and value in allowed:
            return value
        raise ValueError(f"expected one of {sorted(allowed)}")

    return structure_literal


# --- odd payloads ------------------------------------------------------------------------------


def _structure_track_visitors(value: Any, _: Any) -> TrackVisitors:
    return TrackVisitors(enabled=_structure_bool(value, bool))


def _structure_null(cl: type[T]) -> Callable[[Any, Any], T]:
    def structure_null(value: Any, _: Any) -> T:
        if value is not None:
            raise _bad_type("null", value)
        return cl()

    return structure_null


def _structure_logout(value: Any, _: Any) -> Logout:
    # No payload is published (see assumed.Logout): a logout must never turn malformed.
    if value is None:
        return Logout()
    if type(value) is str:
        return Logout(reason=value)
    if type(value) is not dict:
        return Logout(extra={"payload": value})
    reason = value.get("reason")
    if reason is not None and type(reason) is not str:
        return Logout(extra=value)
    rest = {k: v for k, v in value.items() if k != "reason"}
    return Logout(reason=reason, extra=rest or EMPTY_MAPPING)


def _unstructure_logout(value: Logout) -> dict[str, Any]:
    wire = dict(value.extra)
    if value.reason is not None:
        wire["reason"] = value.reason
    return wire


def _structure_visitor_get(value: Any, _: Any) -> VisitorGet:
    # ``{id, ...options}``: every key but ``id`` is an option (PROTOCOL.md §2).
    if type(value) is not dict:
        raise _bad_type("a JSON object for VisitorGet", value)
    try:
        id_ = _structure_str(value["id"], str)
    except Exception as exc:
        note = AttributeValidationNote("Structuring class VisitorGet @ attribute id", "id", str)
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]
        raise ClassValidationError("While structuring VisitorGet", [exc], VisitorGet) from None
    return VisitorGet(id=id_, options={k: v for k, v in value.items() if k != "id"})


def _unstructure_visitor_get(value: VisitorGet) -> dict[str, Any]:
    return {**value.options, "id": value.id}


SPECIAL_STRUCTURE: Mapping[type[Any], StructureHook] = {
    TrackVisitors: _structure_track_visitors,
    ChatRead: _structure_null(ChatRead),
    ChatClose: _structure_null(ChatClose),
    Logout: _structure_logout,
    VisitorGet: _structure_visitor_get,
}
"""Classes whose payload is not a plain object of their fields: their structure functions."""

SPECIAL_UNSTRUCTURE: Mapping[type[Any], UnstructureHook] = {
    TrackVisitors: lambda value: value.enabled,
    ChatRead: lambda value: None,
    ChatClose: lambda value: None,
    Logout: _unstructure_logout,
    VisitorGet: _unstructure_visitor_get,
}
"""… and their unstructure functions."""


# --- variants: two spellings of one payload -------------------------------------------------
#
# Each function takes the raw payload and returns the spelling its class describes, without
# changing the caller's object; anything it does not recognise passes through unchanged, so
# the structuring that follows reports it as usual.


def _prepare_message(value: Any) -> Any:
    # The REST spec (S1 ``message``) spells ``sub_type``; the socket (S2 ``IMessage``) ``subType``.
    if type(value) is dict and "sub_type" in value and "subType" not in value:
        return {("subType" if key == "sub_type" else key): item for key, item in value.items()}
    return value


def _chat_id_from(nested: str) -> Callable[[Any], Any]:
    def prepare(value: Any) -> Any:
        # ``{chat}`` / ``{message}`` without ``chatId``: the id is the nested object's.
        if type(value) is dict and "chatId" not in value:
            inner = value.get(nested)
            if type(inner) is dict:
                chat_id = inner.get("id" if nested == "chat" else "chatId")
                if type(chat_id) is str:
                    return {"chatId": chat_id, **value}
        return value

    return prepare


def _prepare_visitor_connected(value: Any) -> Any:
    # S4: the flat visitor object; agentbot's earlier assumption: ``{visitor}``. A flat visitor
    # always has ``id``; the wrapper never does.
    if type(value) is dict and not ("visitor" in value and "id" not in value):
        return {"visitor": value}
    return value


def _finish_visitor_connected(wire: dict[str, Any]) -> Any:
    # Flat, like the real server (S4), unless fields beside the visitor need the wrapper.
    visitor = wire.get("visitor")
    return visitor if len(wire) == 1 and type(visitor) is dict else wire


PREPARE: Mapping[type[Any], Callable[[Any], Any]] = {
    Message: _prepare_message,
    ChatOpened: _chat_id_from("chat"),
    ChatVisitorClosed: _chat_id_from("message"),
    VisitorConnected: _prepare_visitor_connected,
}
"""Class → the function that turns any accepted spelling of its payload into the one it models."""

FINISH: Mapping[type[Any], Callable[[dict[str, Any]], Any]] = {
    VisitorConnected: _finish_visitor_connected,
}
"""Class → the function that turns its unstructured payload into the wire form written."""
