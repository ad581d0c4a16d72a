"""What a connection reports: frozen value objects returned by ``receive_text``/``tick``.

Each event is one thing that happened on the wire, already checked against the protocol
rules; the caller logs and acts on them (the protocol layer does neither). Secrets can only
appear in ``ConnectRequested.auth``, which is therefore left out of its repr.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final, TypeAlias

__all__ = [
    "Ack",
    "Closed",
    "ConnectRefused",
    "ConnectRequested",
    "Connected",
    "Disconnected",
    "ErrorPacket",
    "Event",
    "Opened",
    "Ping",
    "Pong",
    "ProtocolEvent",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Opened:
    """Client side: the server's Engine.IO open packet arrived (times converted to seconds).

    ``max_payload_bytes`` is the largest frame the server accepts (EIO 4), None when the
    server did not say (always for EIO 3).
    """

    sid: str
    ping_interval_seconds: float
    ping_timeout_seconds: float
    max_payload_bytes: int | None
    upgrades: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Connected:
    """Client side: the server confirmed the namespace (``40`` in SIO 4, ``40{"sid"}`` in SIO 5)."""

    namespace: str
    sid: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectRequested:
    """Server side, SIO 5: the client asked to join ``namespace`` (``40`` or ``40{auth}``).

    Answer with ``accept()`` or ``refuse()``. ``auth`` is the client's auth object or None.
    """

    namespace: str
    auth: Any = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectRefused:
    """Client side: the server refused the namespace (``44...`` before it was connected).

    ``message`` is the reason text (SIO 5 ``message``, or SIO 4's bare string); ``data`` the
    extra details the server attached, if any.
    """

    namespace: str
    message: str
    data: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """An EVENT packet: ``name(*args)``; ``ack_id`` is set when the sender wants an answer."""

    name: str
    args: tuple[Any, ...]
    ack_id: int | None
    namespace: str = "/"


@dataclasses.dataclass(frozen=True, slots=True)
class Ack:
    """The answer to one of our events, matched by ``ack_id`` (``args`` is often [err, result])."""

    ack_id: int
    args: tuple[Any, ...]
    namespace: str = "/"


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorPacket:
    """An ERROR packet that arrived after the namespace was connected (or from a client)."""

    namespace: str
    data: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Disconnected:
    """The peer left the namespace (``41``); the Engine.IO session may still be open."""

    namespace: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Ping:
    """A ping arrived (already answered with a pong); informational."""

    data: str


@dataclasses.dataclass(frozen=True, slots=True)
class Pong:
    """A pong arrived; informational."""

    data: str


@dataclasses.dataclass(frozen=True, slots=True)
class Closed:
    """The session is over: the peer's engine close, a heartbeat timeout, or ours.

    ``by_peer`` is True when the peer sent the close packet. The connection is CLOSED after it.
    """

    reason: str
    by_peer: bool


# -- hot-path construction ---------------------------------------------------------------
# A frozen dataclass's __init__ stores each field through object.__setattr__, which costs
# about as much as the rest of decoding an event minus the JSON. Building the instance with
# object.__new__ and storing through the slots' own descriptors gives the same object (no
# __post_init__, no defaults to fill, no validation) in under two thirds of the time.
# tests/protocol/test_events.py checks that this stays equivalent to Event(...).

_new: Final = object.__new__
_set_event_name: Final = Event.__dict__["name"].__set__
_set_event_args: Final = Event.__dict__["args"].__set__
_set_event_ack_id: Final = Event.__dict__["ack_id"].__set__
_set_event_namespace: Final = Event.__dict__["namespace"].__set__


def new_event(name: str, args: tuple[Any, ...], ack_id: int | None, namespace: str) -> Event:
    """Return ``Event(name, args, ack_id, namespace)``, built the fast way (see above)."""
    event = _new(Event)
    _set_event_name(event, name)
    _set_event_args(event, args)
    _set_event_ack_id(event, ack_id)
    _set_event_namespace(event, namespace)
    return event


ProtocolEvent: TypeAlias = (
    Opened
    | Connected
    | ConnectRequested
    | ConnectRefused
    | Event
    | Ack
    | ErrorPacket
    | Disconnected
    | Ping
    | Pong
    | Closed
)
"""Everything ``receive_text`` and ``tick`` can return."""
