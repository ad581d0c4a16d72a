"""Wire events, requests and acks ↔ typed API objects: the functions client and sandbox call.

The layer below (``agentbot.protocol``) gives an event as ``(name, args)`` and an ack as its
``args``; these functions give typed objects, and back. Decoding server events never raises
(PROTOCOL.md §3 decoding rule: unknown → :class:`UnknownEvent`, bad → :class:`MalformedEvent`);
decoding requests is strict (the sandbox checks our client's payloads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from agentbot.api.base import Request
from agentbot.api.converter import decode_error, structure, structure_hook, unstructure
from agentbot.api.errors import ApiError, DecodeError, api_error_from_wire, api_error_to_wire
from agentbot.api.events import (
    BULK_EVENT,
    EVENT_TYPES,
    MalformedEvent,
    ServerEvent,
    UnknownEvent,
)
from agentbot.api.requests import AGENT_REQUESTS, VISITOR_REQUESTS
from agentbot.errors import safe_snippet

__all__ = [
    "decode_event",
    "decode_events",
    "decode_reply",
    "decode_request",
    "encode_bulk",
    "encode_error",
    "encode_event",
    "encode_reply",
    "encode_request",
]

Side = Literal["agent", "visitor"]

# Event name → (class, fast structure function), resolved once: this is the hot path.
_EVENT_DECODERS: Mapping[str, tuple[type[Any], Callable[[Any, Any], Any]]] = {
    name: (cls, structure_hook(cls)) for name, cls in EVENT_TYPES.items()
}
_REQUESTS: Mapping[Side, Mapping[str, type[Request]]] = {
    "agent": AGENT_REQUESTS,
    "visitor": VISITOR_REQUESTS,
}
# Requests whose payload is ``null``; socket.io also lets a client send no argument at all.
_NULL_PAYLOAD_OK = frozenset({"chat.read", "chat.close"})


def _payload(args: Sequence[Any]) -> Any:
    # An event carries one payload argument; none reads as null, several are kept as a list.
    if len(args) == 1:
        return args[0]
    return list(args) if args else None


def _decode_one(name: str, data: Any) -> ServerEvent:
    decoder = _EVENT_DECODERS.get(name)
    if decoder is None:
        return UnknownEvent(name=name, data=data)
    cls, hook = decoder
    try:
        event: ServerEvent = hook(data, cls)
    except Exception as exc:
        error = decode_error(data, cls, event=name, cause=exc)
        return MalformedEvent(name=name, data=data, error=error)
    return event


def decode_events(name: str, args: Sequence[Any]) -> list[ServerEvent]:
    """Turn one received event into typed events; never raises.

    ``bulk`` gives its items, in order, each decoded as if it had arrived alone (PROTOCOL.md
    §3); an unknown name gives :class:`UnknownEvent`; a known event whose payload does not fit
    gives :class:`MalformedEvent` (one bad bulk item does not drop the others).
    """
    data = _payload(args)
    if name != BULK_EVENT:
        return [_decode_one(name, data)]
    if type(data) is not list:
        error = DecodeError(f"{BULK_EVENT}: expected a list of events", event=BULK_EVENT)
        return [MalformedEvent(name=BULK_EVENT, data=data, error=error)]
    events: list[ServerEvent] = []
    for index, item in enumerate(data):
        item_name = item.get("name") if type(item) is dict else None
        if type(item_name) is not str or item_name == BULK_EVENT:
            # A nested bulk is refused rather than recursed into: no depth to exhaust.
            error = DecodeError(
                f"{BULK_EVENT}: item {index} is not a {{name, data}} event",
                event=BULK_EVENT,
                field=f"[{index}]",
            )
            events.append(MalformedEvent(name=BULK_EVENT, data=item, error=error))
        else:
            events.append(_decode_one(item_name, item.get("data")))
    return events


def decode_event(name: str, data: Any) -> ServerEvent:
    """Decode one event payload strictly: raise :class:`DecodeError` where it does not fit.

    An unknown name still gives :class:`UnknownEvent` (that is not an error, §3); ``bulk`` is
    refused, since it is several events: use :func:`decode_events`.
    """
    if name == BULK_EVENT:
        raise DecodeError(f"{BULK_EVENT}: holds several events; use decode_events", event=name)
    event = _decode_one(name, data)
    if isinstance(event, MalformedEvent):
        raise event.error
    return event


def encode_event(event: ServerEvent) -> tuple[str, Any]:
    """Return ``(name, payload)`` for a server event: what the sandbox emits."""
    if isinstance(event, UnknownEvent | MalformedEvent):
        return event.name, event.data
    return event.name, unstructure(event)


def encode_bulk(events: Iterable[ServerEvent]) -> tuple[str, Any]:
    """Return ``("bulk", [{name, data}, ...])`` carrying ``events`` in order (sandbox side)."""
    items = []
    for event in events:
        name, data = encode_event(event)
        items.append({"name": name, "data": data})
    return BULK_EVENT, items


def encode_request(request: Request) -> tuple[str, list[Any]]:
    """Return the event name and the arguments to send for ``request`` (one payload)."""
    return request.name, [unstructure(request)]


def decode_request(name: str, args: Sequence[Any], *, side: Side = "agent") -> Request:
    """Decode a request a client sent, strictly (sandbox side).

    ``side`` says whose connection it came on (the same name, e.g. ``chat.message``, has a
    different shape for an agent and a visitor). Raises :class:`DecodeError` naming the
    request and the field for an unknown name, extra arguments, or an unknown, missing or
    mistyped field.
    """
    cls = _REQUESTS[side].get(name)
    if cls is None:
        raise DecodeError(f"unknown {side} request {safe_snippet(name)}", event=name)
    if len(args) == 1:
        payload = args[0]
    elif not args and name in _NULL_PAYLOAD_OK:
        payload = None
    else:
        raise DecodeError(f"{name}: expected one payload argument, got {len(args)}", event=name)
    request: Request = structure(payload, cls, event=name)
    return request


def decode_reply(request: Request, args: Sequence[Any]) -> Any:
    """Turn the ack ``[error, result]`` of ``request`` into its typed reply.

    Raises the typed :class:`ApiError` when ``error`` is set (``AuthFailure``, ``NotFound``,
    ``NotAuthenticated``, else ``ApiError``), or :class:`DecodeError` when the result does not
    fit ``request.reply_type``. A request without a reply type returns the raw result.
    """
    error = args[0] if args else None
    if error is not None:
        raise api_error_from_wire(error)
    result = args[1] if len(args) > 1 else None
    reply_type = request.reply_type
    if reply_type is None:
        return result
    return structure(result, reply_type, event=request.name)


def encode_reply(result: Any) -> list[Any]:
    """Return the ack arguments ``[null, result]`` for a successful request (sandbox side)."""
    return [None, unstructure(result)]


def encode_error(error: ApiError) -> list[Any]:
    """Return the ack arguments ``[{message, event, type[, code]}, null]`` (sandbox side)."""
    return [api_error_to_wire(error), None]
