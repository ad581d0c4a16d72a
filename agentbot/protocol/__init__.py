"""Sans-IO Engine.IO 3/4 + Socket.IO 4/5: text in, events out; calls in, frames out.

The client (``agentbot.client``) and the sandbox server share this layer so their framing
cannot drift apart. Nothing here does I/O, reads a clock or logs: the caller owns the
socket and passes ``now``. Malformed input raises
:class:`~agentbot.errors.RemoteProtocolError`, misuse raises
:class:`~agentbot.errors.LocalProtocolError`; no other exception leaves this package.
"""

from __future__ import annotations

from agentbot.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from agentbot.protocol.client_connection import ClientConnection
from agentbot.protocol.connection import ConnectionState
from agentbot.protocol.engineio import (
    EnginePacketType,
    OpenPacket,
    decode_engine_packet,
    decode_open_packet,
    encode_engine_packet,
    encode_open_packet,
)
from agentbot.protocol.events import (
    Ack,
    Closed,
    Connected,
    ConnectRefused,
    ConnectRequested,
    Disconnected,
    ErrorPacket,
    Event,
    Opened,
    Ping,
    Pong,
    ProtocolEvent,
)
from agentbot.protocol.heartbeat import (
    Heartbeat,
    HeartbeatAction,
    PingListener,
    PingSender,
    heartbeat_for,
)
from agentbot.protocol.server_connection import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_PING_INTERVAL_SECONDS,
    DEFAULT_PING_TIMEOUT_SECONDS,
    ServerConnection,
)
from agentbot.protocol.socketio import (
    MAX_ACK_ID,
    SocketPacket,
    SocketPacketType,
    decode_socket_packet,
    encode_socket_packet,
    parse_socket_packet,
)
from agentbot.protocol.versions import ProtocolVersion

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_PING_INTERVAL_SECONDS",
    "DEFAULT_PING_TIMEOUT_SECONDS",
    "MAX_ACK_ID",
    "Ack",
    "ClientConnection",
    "Closed",
    "ConnectRefused",
    "ConnectRequested",
    "Connected",
    "ConnectionState",
    "Disconnected",
    "EnginePacketType",
    "ErrorPacket",
    "Event",
    "Heartbeat",
    "HeartbeatAction",
    "LocalProtocolError",
    "OpenPacket",
    "Opened",
    "Ping",
    "PingListener",
    "PingSender",
    "Pong",
    "ProtocolError",
    "ProtocolEvent",
    "ProtocolVersion",
    "RemoteProtocolError",
    "ServerConnection",
    "SocketPacket",
    "SocketPacketType",
    "decode_engine_packet",
    "decode_open_packet",
    "decode_socket_packet",
    "encode_engine_packet",
    "encode_open_packet",
    "encode_socket_packet",
    "heartbeat_for",
    "parse_socket_packet",
]
