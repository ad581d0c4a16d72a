"""Socket.IO 4/5 packets, the text inside an Engine.IO message (PROTOCOL.md §1).

Wire form: ``<type>[<attachments>-][<namespace>,][<ack id>][<json>]``. The namespace ``/`` is
left out on the wire. Binary packets (types 5 and 6) are refused: this API never uses them,
and a peer that sends one gets a clear RemoteProtocolError instead of half-decoded data.

Decoding is the hot path of every connection (one ``42[...]`` per chat event), so
:func:`parse_socket_packet` reads the frame in place from an offset (no copies of the
payload), decodes the JSON exactly once and checks the payload shape with a few type
identity tests. Ack ids are read only for EVENT and ACK, which keeps frames such as
SIO 4's ``44"reason"``/``445`` (an error whose payload is the number 5) unambiguous.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Final

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol.versions import ProtocolVersion
from agentbot.protocol.wirejson import dumps_compact, loads_at, loads_slow, raw_decode

__all__ = [
    "MAX_ACK_ID",
    "SocketPacket",
    "SocketPacketType",
    "decode_socket_packet",
    "encode_socket_packet",
    "parse_socket_packet",
]

MAX_ACK_ID: Final = 2**53 - 1
"""Largest ack id accepted or sent: JavaScript's ``Number.MAX_SAFE_INTEGER``."""

_MAX_ACK_ID_DIGITS: Final = len(str(MAX_ACK_ID))
_BAD_JSON: Final = "Socket.IO payload is not valid JSON"


class SocketPacketType(enum.IntEnum):
    """The Socket.IO packet types; the value is the digit that starts the packet."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


CONNECT: Final = SocketPacketType.CONNECT
DISCONNECT: Final = SocketPacketType.DISCONNECT
EVENT: Final = SocketPacketType.EVENT
ACK: Final = SocketPacketType.ACK
ERROR: Final = SocketPacketType.ERROR

_TYPE_BY_CHAR: Final[dict[str, SocketPacketType]] = {str(int(t)): t for t in SocketPacketType}
_BINARY_TYPES: Final = frozenset({SocketPacketType.BINARY_EVENT, SocketPacketType.BINARY_ACK})


@dataclasses.dataclass(frozen=True, slots=True)
class SocketPacket:
    """One Socket.IO packet: its type, decoded JSON payload, namespace and ack id.

    ``data`` is None when the packet carries no payload; EVENT data is the whole array
    (``[name, *args]``), ACK data the argument array.
    """

    type: SocketPacketType
    data: Any = None
    namespace: str = "/"
    ack_id: int | None = None


_new: Final = object.__new__
_set_type: Final = SocketPacket.__dict__["type"].__set__
_set_data: Final = SocketPacket.__dict__["data"].__set__
_set_namespace: Final = SocketPacket.__dict__["namespace"].__set__
_set_ack_id: Final = SocketPacket.__dict__["ack_id"].__set__


def parse_socket_packet(
    text: str, start: int, version: ProtocolVersion
) -> tuple[SocketPacketType, str, int | None, Any]:
    """Decode the Socket.IO packet in ``text[start:]`` as ``(type, namespace, ack_id, data)``.

    The tuple form is what the connections use on their hot path (one JSON decode, no
    intermediate object); :func:`decode_socket_packet` wraps it in a :class:`SocketPacket`.
    Raises RemoteProtocolError for anything that is not a valid text packet of ``version``.
    """
    n = len(text)
    try:
        ptype = _TYPE_BY_CHAR[text[start]]
    except (KeyError, IndexError):
        if start >= n:
            raise RemoteProtocolError("empty Socket.IO packet", frame=text) from None
        raise RemoteProtocolError("unknown Socket.IO packet type", frame=text) from None
    i = start + 1
    namespace = "/"
    if i < n and text[i] == "/":
        comma = text.find(",", i)
        if comma < 0:
            namespace, i = text[i:], n
        else:
            namespace, i = text[i:comma], comma + 1
        query = namespace.find("?")
        if query >= 0:  # socket.io 2.x clients append "?query" to the namespace
            namespace = namespace[:query]
    ack_id: int | None = None
    data: Any = None
    if ptype is EVENT or ptype is ACK:
        j = i
        while j < n and "0" <= text[j] <= "9":
            j += 1
        if j > i:
            if j - i > _MAX_ACK_ID_DIGITS:
                raise RemoteProtocolError("ack id is too long", frame=text)
            ack_id = int(text[i:j])
            if ack_id > MAX_ACK_ID:
                raise RemoteProtocolError("ack id is too large", frame=text)
            i = j
        if i < n:
            # loads_at() inlined: this is the line every chat event goes through.
            try:
                data, end = raw_decode(text, i)
            except (ValueError, RecursionError):
                end = -1
            if end != n:  # surrounding whitespace, or not JSON: the careful path decides
                data = loads_slow(text, i, _BAD_JSON)
        if ptype is EVENT:
            if type(data) is not list or not data or type(data[0]) is not str:
                raise RemoteProtocolError(
                    "EVENT payload must be an array starting with the event name", frame=text
                )
        else:
            if type(data) is not list:
                raise RemoteProtocolError("ACK payload must be an array", frame=text)
            if ack_id is None:
                raise RemoteProtocolError("ACK packet without an ack id", frame=text)
        return ptype, namespace, ack_id, data
    if ptype in _BINARY_TYPES:
        raise RemoteProtocolError(
            "binary packets are not supported (this API sends text only)", frame=text
        )
    present = i < n
    if present:
        data = loads_at(text, i, _BAD_JSON)
    if ptype is CONNECT:
        # SIO 5: "40" or "40{auth}" from a client, "40{"sid":...}" from a server.
        # SIO 4: never a payload.
        if present and (version is ProtocolVersion.EIO3 or type(data) is not dict):
            raise RemoteProtocolError(
                "CONNECT payload must be absent"
                + (" or a JSON object" if version is ProtocolVersion.EIO4 else ""),
                frame=text,
            )
    elif ptype is DISCONNECT:
        if present:
            raise RemoteProtocolError("DISCONNECT packet must not carry a payload", frame=text)
    elif version is ProtocolVersion.EIO4 and (
        type(data) is not dict or type(data.get("message")) is not str
    ):
        # ERROR: socket.io 2.x sends any JSON (usually a bare string, 44"reason");
        # SIO 5 sends {"message": ..., "data"?: ...}.
        raise RemoteProtocolError(
            'ERROR payload must be an object with a "message" string', frame=text
        )
    return ptype, namespace, ack_id, data


def decode_socket_packet(text: str, version: ProtocolVersion) -> SocketPacket:
    """Decode a Socket.IO packet: the text after the Engine.IO ``4``.

    Raises RemoteProtocolError for malformed packets, binary packets (5/6), non-strict JSON
    and payloads of the wrong shape for their type (see PROTOCOL.md §1 and the module doc).
    """
    if type(text) is not str:
        raise RemoteProtocolError("Socket.IO packet must be text", frame=repr(text))
    ptype, namespace, ack_id, data = parse_socket_packet(text, 0, version)
    # SocketPacket(ptype, data, namespace, ack_id) without the frozen __init__'s cost; see
    # agentbot.protocol.events.new_event for why this is equivalent.
    packet = _new(SocketPacket)
    _set_type(packet, ptype)
    _set_data(packet, data)
    _set_namespace(packet, namespace)
    _set_ack_id(packet, ack_id)
    return packet


def encode_socket_packet(packet: SocketPacket) -> str:
    """Return the wire text of ``packet`` (what follows the Engine.IO ``4``).

    The payload is checked against the decoder's rules for either version (the encoder does
    not know the peer's: a CONNECT object is SIO 5 only, a bare ERROR value SIO 4 only), so a
    packet that encodes decodes again for the version it was meant for. Tuples are sent as
    arrays. Raises LocalProtocolError otherwise; its message names the rule, never the data
    (an outgoing payload may hold a key or token).
    """
    try:
        ptype = SocketPacketType(packet.type)
    except ValueError:
        raise LocalProtocolError("unknown Socket.IO packet type") from None
    if ptype in _BINARY_TYPES:
        raise LocalProtocolError("binary packets are not supported")
    data = packet.data
    ack_id = packet.ack_id
    if ptype is EVENT:
        if not isinstance(data, list | tuple) or not data or not isinstance(data[0], str):
            raise LocalProtocolError("EVENT data must be a list starting with the event name")
    elif ptype is ACK:
        if not isinstance(data, list | tuple):
            raise LocalProtocolError("ACK data must be a list")
        if ack_id is None:
            raise LocalProtocolError("ACK packet needs an ack id")
    elif ack_id is not None:
        raise LocalProtocolError("only EVENT and ACK packets carry an ack id")
    elif ptype is CONNECT:
        if data is not None and not isinstance(data, dict):
            raise LocalProtocolError("CONNECT data must be None or a dict")
    elif ptype is DISCONNECT and data is not None:
        raise LocalProtocolError("DISCONNECT carries no data")
    head = str(int(ptype)) + namespace_prefix(packet.namespace)
    if ack_id is not None:
        head += str(check_ack_id(ack_id))
    if data is None:
        return head
    return head + dumps_compact(data)


def namespace_prefix(namespace: str) -> str:
    """Return the wire prefix for ``namespace``: empty for ``/``, else ``/name,``.

    Raises LocalProtocolError for a namespace that would not survive the trip (it must start
    with ``/`` and contain neither ``,`` nor ``?``).
    """
    if namespace == "/":
        return ""
    if (
        not isinstance(namespace, str)
        or not namespace.startswith("/")
        or "," in namespace
        or "?" in namespace
    ):
        raise LocalProtocolError(
            "namespace must start with '/' and contain no ',' or '?'", frame=repr(namespace)
        )
    return namespace + ","


def check_ack_id(ack_id: int) -> int:
    """Return ``ack_id`` if it can go on the wire (an int in 0..MAX_ACK_ID), else raise."""
    if type(ack_id) is not int or not 0 <= ack_id <= MAX_ACK_ID:
        raise LocalProtocolError("ack id must be an int in 0..2**53-1", frame=repr(ack_id))
    return ack_id
