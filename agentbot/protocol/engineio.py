"""Engine.IO 3/4 packets: one WebSocket text frame is one packet (PROTOCOL.md §1).

The first character is the packet type, the rest is its data. Only the open packet's data
is structured (a JSON object), so it gets its own encoder and parser here. Binary frames
and the polling transport's payload framing are not part of the WebSocket-only dialect
agentbot speaks.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any, Final

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol.versions import ProtocolVersion
from agentbot.protocol.wirejson import dumps_compact, loads_strict

__all__ = [
    "EnginePacketType",
    "OpenPacket",
    "decode_engine_packet",
    "decode_open_packet",
    "encode_engine_packet",
    "encode_open_packet",
]


class EnginePacketType(enum.IntEnum):
    """The Engine.IO packet types; the value is the digit that starts the frame."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


_TYPE_BY_CHAR: Final[dict[str, EnginePacketType]] = {str(int(t)): t for t in EnginePacketType}
_CHAR_BY_TYPE: Final[dict[int, str]] = {int(t): str(int(t)) for t in EnginePacketType}


def encode_engine_packet(type: EnginePacketType, data: str = "") -> str:
    """Return the text frame for an Engine.IO packet: the type digit followed by ``data``.

    Raises LocalProtocolError for an unknown type or non-text data.
    """
    prefix = _CHAR_BY_TYPE.get(type) if isinstance(type, int) else None
    if prefix is None:
        raise LocalProtocolError("unknown Engine.IO packet type", frame=repr(type))
    if not isinstance(data, str):
        raise LocalProtocolError("Engine.IO packet data must be text", frame=repr(data))
    return prefix + data


def decode_engine_packet(text: str) -> tuple[EnginePacketType, str]:
    """Split one received text frame into its Engine.IO packet type and data.

    Raises RemoteProtocolError for an empty frame, a non-text (binary) frame or an unknown
    type digit.
    """
    try:
        return _TYPE_BY_CHAR[text[0]], text[1:]
    except (KeyError, IndexError, TypeError):
        raise _bad_engine_frame(text) from None


def _bad_engine_frame(text: object) -> RemoteProtocolError:
    """Build the error for a frame that is not an Engine.IO text packet."""
    if not isinstance(text, str):
        return RemoteProtocolError(
            "binary frames are not supported (text-only Engine.IO over WebSocket)",
            frame=repr(text),
        )
    if not text:
        return RemoteProtocolError("empty Engine.IO frame", frame=text)
    return RemoteProtocolError("unknown Engine.IO packet type", frame=text)


@dataclasses.dataclass(frozen=True, slots=True)
class OpenPacket:
    """The handshake the server sends first: ``0{"sid",...}`` (times in seconds here)."""

    sid: str
    ping_interval_seconds: float
    ping_timeout_seconds: float
    max_payload_bytes: int | None = None
    upgrades: tuple[str, ...] = ()


def encode_open_packet(packet: OpenPacket, version: ProtocolVersion) -> str:
    """Return the ``0{...}`` frame for ``packet``; times go on the wire in whole milliseconds.

    EIO 4 adds ``maxPayload`` (required there); EIO 3 has no such field.
    Raises LocalProtocolError for values the handshake cannot carry.
    """
    if not isinstance(packet.sid, str) or not packet.sid:
        raise LocalProtocolError("the session id must be a non-empty string")
    body: dict[str, Any] = {
        "sid": packet.sid,
        "upgrades": list(packet.upgrades),
        "pingInterval": _to_millis(packet.ping_interval_seconds, "ping interval"),
        "pingTimeout": _to_millis(packet.ping_timeout_seconds, "ping timeout"),
    }
    if version is ProtocolVersion.EIO4:
        if packet.max_payload_bytes is None or packet.max_payload_bytes <= 0:
            raise LocalProtocolError("EIO 4 open packet needs a positive maxPayload")
        body["maxPayload"] = packet.max_payload_bytes
    return "0" + dumps_compact(body)


def _to_millis(seconds: float, what: str) -> int:
    """Convert a positive, finite number of seconds to whole milliseconds (at least 1)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise LocalProtocolError(f"the {what} must be a number of seconds", frame=repr(seconds))
    if not math.isfinite(seconds) or seconds <= 0:
        raise LocalProtocolError(f"the {what} must be positive and finite", frame=repr(seconds))
    return max(1, round(seconds * 1000))


def decode_open_packet(data: str, version: ProtocolVersion) -> OpenPacket:
    """Parse the JSON data of a received open packet (the text after the ``0``).

    Unknown fields are ignored (servers add their own). ``maxPayload`` is optional even for
    EIO 4, as some servers omit it; the result then has ``max_payload_bytes=None``.
    Raises RemoteProtocolError when the JSON or a required field is missing or mistyped.
    """
    body = loads_strict(data, "open packet is not valid JSON")
    if type(body) is not dict:
        raise RemoteProtocolError("open packet is not a JSON object", frame=data)
    sid = body.get("sid")
    if type(sid) is not str or not sid:
        raise RemoteProtocolError("open packet has no session id", frame=data)
    interval = _positive_millis(body.get("pingInterval"), "pingInterval", data)
    timeout = _positive_millis(body.get("pingTimeout"), "pingTimeout", data)
    max_payload: int | None = None
    if version is ProtocolVersion.EIO4 and body.get("maxPayload") is not None:
        raw = body["maxPayload"]
        if type(raw) is not int or raw <= 0:
            raise RemoteProtocolError("open packet has an invalid maxPayload", frame=data)
        max_payload = raw
    raw_upgrades = body.get("upgrades", [])
    if type(raw_upgrades) is not list or not all(type(u) is str for u in raw_upgrades):
        raise RemoteProtocolError("open packet has invalid upgrades", frame=data)
    return OpenPacket(
        sid=sid,
        ping_interval_seconds=interval / 1000,
        ping_timeout_seconds=timeout / 1000,
        max_payload_bytes=max_payload,
        upgrades=tuple(raw_upgrades),
    )


#: The longest handshake duration accepted: JavaScript's setTimeout limit (2**31 - 1 ms,
#: about 24.8 days), so no socket.io server can mean more. It also keeps a 400-digit integer
#: from reaching ``float()``, which raises OverflowError (issue 16).
MAX_DURATION_MILLIS: Final = 2**31 - 1


def _positive_millis(value: object, field: str, data: str) -> float:
    """Check a handshake duration: a positive JSON number of milliseconds, at most 2**31-1."""
    # int and float compare exactly, with no float() conversion that could overflow.
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 < value <= MAX_DURATION_MILLIS
    ):
        return float(value)
    raise RemoteProtocolError(f"open packet has an invalid {field}", frame=data)
