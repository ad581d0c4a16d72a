"""The client side of a session: what agentbot's AgentClient drives (PROTOCOL.md §1).

It waits for the server's open packet, asks for its namespace where the version requires
(SIO 5 always, SIO 4 only for a namespace other than ``/``), and then exchanges events and
acks. Packets for other namespaces are ignored, as socket.io-client does: socket.io 2.x
servers connect ``/`` on their own even when the client wants another namespace.
"""

from __future__ import annotations

from typing import Any

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol.connection import (
    CONNECTED,
    OPEN,
    OPENING,
    BaseConnection,
    Trigger,
)
from agentbot.protocol.engineio import EnginePacketType, decode_open_packet
from agentbot.protocol.events import (
    Connected,
    ConnectRefused,
    Disconnected,
    ErrorPacket,
    Opened,
    ProtocolEvent,
)
from agentbot.protocol.heartbeat import heartbeat_for
from agentbot.protocol.socketio import SocketPacketType, namespace_prefix
from agentbot.protocol.versions import ProtocolVersion
from agentbot.protocol.wirejson import dumps_compact

__all__ = ["ClientConnection"]

DEFAULT_REFUSAL_MESSAGE = "connection refused"


class ClientConnection(BaseConnection):
    """A sans-IO Socket.IO client session over one WebSocket.

    Feed every received text frame to :meth:`receive_text`, send what
    :meth:`data_to_send` returns, and call :meth:`tick` at :meth:`next_deadline`.
    ``auth`` is the SIO 5 namespace auth object (``40{auth}``); SIO 4 has no such thing
    (pass credentials in the URL query or, for Smartsupp, in ``agent.connect``).
    """

    __slots__ = ("_connect_frame", "_sid")

    _SIDE = "server"

    def __init__(
        self,
        version: ProtocolVersion,
        *,
        namespace: str = "/",
        auth: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, namespace=namespace)
        if auth is not None and not isinstance(auth, dict):
            raise LocalProtocolError("auth must be a dict or None")
        prefix = namespace_prefix(namespace)
        self._connect_frame: str | None
        if version is ProtocolVersion.EIO4:
            # SIO 5: the client always asks, with its auth object if it has one.
            self._connect_frame = "40" + prefix + ("" if auth is None else dumps_compact(auth))
        else:
            if auth is not None:
                raise LocalProtocolError(
                    "auth needs Socket.IO 5 (EIO 4); SIO 4 carries credentials elsewhere"
                )
            # SIO 4: the server connects "/" unasked; other namespaces are requested.
            self._connect_frame = None if namespace == "/" else "40" + prefix
        self._sid: str | None = None

    @property
    def sid(self) -> str | None:
        """The Engine.IO session id from the open packet (None before it arrived)."""
        return self._sid

    def _on_open_packet(
        self, ptype: EnginePacketType, data: str, text: str, now: float
    ) -> list[ProtocolEvent]:
        """Accept the server's open packet; anything else before it is a protocol error."""
        if self._state is not OPENING:
            raise RemoteProtocolError("a second Engine.IO open packet", frame=text)
        if ptype is EnginePacketType.NOOP:
            return []
        if ptype is not EnginePacketType.OPEN:
            raise RemoteProtocolError("expected the Engine.IO open packet first", frame=text)
        packet = decode_open_packet(data, self._version)
        self._sid = packet.sid
        self._max_send_bytes = packet.max_payload_bytes
        self._heartbeat = heartbeat_for(
            self._version,
            client_side=True,
            interval_seconds=packet.ping_interval_seconds,
            timeout_seconds=packet.ping_timeout_seconds,
        )
        self._heartbeat.start(now)
        self._transition(Trigger.ENGINE_OPEN)
        if self._connect_frame is not None:
            self._out.append(self._connect_frame)
        return [
            Opened(
                packet.sid,
                packet.ping_interval_seconds,
                packet.ping_timeout_seconds,
                packet.max_payload_bytes,
                packet.upgrades,
            )
        ]

    def _on_socket_packet(
        self, ptype: SocketPacketType, namespace: str, ack_id: int | None, data: Any, text: str
    ) -> list[ProtocolEvent]:
        """Route a Socket.IO packet by our state; other namespaces are ignored."""
        state = self._state
        if state is OPENING:
            raise RemoteProtocolError("Socket.IO packet before the open packet", frame=text)
        if namespace != self._namespace:
            return []
        if ptype is SocketPacketType.CONNECT:
            if state is CONNECTED:
                if self._version is ProtocolVersion.EIO3:
                    return []  # a repeated "40" changes nothing
                raise RemoteProtocolError("namespace connected twice", frame=text)
            sid = None if data is None else data.get("sid")
            if sid is not None and type(sid) is not str:
                raise RemoteProtocolError("CONNECT sid must be a string", frame=text)
            self._transition(Trigger.NAMESPACE_CONNECT)
            return [Connected(namespace, sid)]
        if ptype is SocketPacketType.ERROR:
            if state is OPEN:
                message, details = _refusal(data)
                return [ConnectRefused(namespace, message, details)]
            return [ErrorPacket(namespace, data)]
        if state is OPEN:
            if ptype is SocketPacketType.DISCONNECT:
                self._transition(Trigger.NAMESPACE_DISCONNECT)
                return [Disconnected(namespace, "io server disconnect")]
            raise RemoteProtocolError(
                f"{ptype.name} before the namespace was connected", frame=text
            )
        return self._on_connected_packet(ptype, namespace, ack_id, data, text)


def _refusal(data: Any) -> tuple[str, Any]:
    """Split a refusal payload into (message, details) for both versions.

    SIO 5 sends ``{"message", "data"?}`` (checked by the codec); socket.io 2.x sends the bare
    reason string, or an error object of the server's choosing.
    """
    if type(data) is str:
        return data, None
    if type(data) is dict and type(data.get("message")) is str:
        return data["message"], data.get("data")
    return DEFAULT_REFUSAL_MESSAGE, data
