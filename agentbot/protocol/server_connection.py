"""The server side of a session: what agentbot's sandbox drives (PROTOCOL.md §1, §4).

The server speaks first (``open()`` queues the open packet), connects ``/`` unasked in
SIO 4, and in SIO 5 answers each namespace request with :meth:`ServerConnection.accept` or
:meth:`ServerConnection.refuse`. One namespace per connection: the sandbox serves ``/``.
"""

from __future__ import annotations

import math
from typing import Any

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol.connection import (
    CONNECTED,
    OPEN,
    OPENING,
    BaseConnection,
    Trigger,
)
from agentbot.protocol.engineio import OpenPacket, encode_open_packet
from agentbot.protocol.events import (
    ConnectRequested,
    Disconnected,
    ErrorPacket,
    ProtocolEvent,
)
from agentbot.protocol.heartbeat import heartbeat_for
from agentbot.protocol.socketio import SocketPacketType, namespace_prefix
from agentbot.protocol.versions import ProtocolVersion
from agentbot.protocol.wirejson import dumps_compact

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_PING_INTERVAL_SECONDS",
    "DEFAULT_PING_TIMEOUT_SECONDS",
    "ServerConnection",
]

# engine.io's own defaults (socket.io 4.x); socket.io 2.x used 25 s / 5 s.
DEFAULT_PING_INTERVAL_SECONDS = 25.0
DEFAULT_PING_TIMEOUT_SECONDS = 20.0
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000


class ServerConnection(BaseConnection):
    """A sans-IO Socket.IO server session for one client WebSocket.

    Call :meth:`open` once the WebSocket is accepted, then feed received text to
    :meth:`receive_text`, send what :meth:`data_to_send` returns, and call :meth:`tick` at
    :meth:`next_deadline`. Frames longer than ``max_payload_bytes`` are a
    RemoteProtocolError (close the socket then). ``sid`` is the Engine.IO session id, also
    used as the SIO 5 namespace sid.
    """

    __slots__ = ("_ping_interval_seconds", "_ping_timeout_seconds", "_requested", "_sid")

    _SIDE = "client"

    def __init__(
        self,
        version: ProtocolVersion,
        *,
        sid: str,
        ping_interval_seconds: float = DEFAULT_PING_INTERVAL_SECONDS,
        ping_timeout_seconds: float = DEFAULT_PING_TIMEOUT_SECONDS,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        super().__init__(version, namespace="/")
        if not isinstance(sid, str) or not sid:
            raise LocalProtocolError("sid must be a non-empty string")
        for what, value in (
            ("ping_interval_seconds", ping_interval_seconds),
            ("ping_timeout_seconds", ping_timeout_seconds),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise LocalProtocolError(f"{what} must be a positive number", frame=repr(value))
        if type(max_payload_bytes) is not int or max_payload_bytes <= 0:
            raise LocalProtocolError(
                "max_payload_bytes must be a positive int", frame=repr(max_payload_bytes)
            )
        self._sid = sid
        self._ping_interval_seconds = float(ping_interval_seconds)
        self._ping_timeout_seconds = float(ping_timeout_seconds)
        self._max_receive_bytes = max_payload_bytes
        # Frames of at most a quarter of the limit in characters cannot exceed it in UTF-8
        # bytes, so only longer ones are measured (see BaseConnection.receive_text).
        self._max_receive_fast_chars = max_payload_bytes // 4
        self._requested: set[str] = set()

    @property
    def sid(self) -> str:
        """The Engine.IO session id sent in the open packet."""
        return self._sid

    def open(self, now: float) -> None:
        """Queue the open packet and start the heartbeat at ``now``.

        SIO 4 also queues ``40`` at once and is CONNECTED on ``/``; SIO 5 waits for the
        client's namespace request (:class:`ConnectRequested`). Raises LocalProtocolError
        unless the connection is still OPENING.
        """
        if self._state is not OPENING:
            raise LocalProtocolError(f"cannot open in state {self._state.value!r}")
        self._out.append(
            encode_open_packet(
                OpenPacket(
                    sid=self._sid,
                    ping_interval_seconds=self._ping_interval_seconds,
                    ping_timeout_seconds=self._ping_timeout_seconds,
                    max_payload_bytes=self._max_receive_bytes,
                ),
                self._version,
            )
        )
        self._heartbeat = heartbeat_for(
            self._version,
            client_side=False,
            interval_seconds=self._ping_interval_seconds,
            timeout_seconds=self._ping_timeout_seconds,
        )
        self._heartbeat.start(now)
        self._transition(Trigger.ENGINE_OPEN)
        if self._version is ProtocolVersion.EIO3:
            self._out.append("40")
            self._transition(Trigger.NAMESPACE_CONNECT)

    def accept(self, namespace: str = "/") -> None:
        """Confirm the client's pending request for ``namespace`` with ``40{"sid":...}``.

        Raises LocalProtocolError when no such request is pending or a namespace is
        connected already (one per connection).
        """
        if self._state is not OPEN:
            raise LocalProtocolError(f"cannot accept a namespace in state {self._state.value!r}")
        self._take_request(namespace)
        self._namespace = namespace
        self._event_prefix = "42" + namespace_prefix(namespace)
        self._out.append("40" + namespace_prefix(namespace) + dumps_compact({"sid": self._sid}))
        self._transition(Trigger.NAMESPACE_CONNECT)

    def refuse(self, message: str, *, namespace: str = "/", data: Any = None) -> None:
        """Refuse the client's pending request for ``namespace`` with an ERROR packet.

        SIO 5 sends ``44{"message":..., "data"?:...}``; SIO 4 sends the bare reason string
        as socket.io 2.x does (or the same object when ``data`` is given). Raises
        LocalProtocolError when no such request is pending.
        """
        self._require_live("refuse a namespace")
        if not isinstance(message, str):
            raise LocalProtocolError("refusal message must be a string", frame=repr(message))
        self._take_request(namespace)
        payload: Any
        if self._version is ProtocolVersion.EIO3 and data is None:
            payload = message
        else:
            payload = {"message": message} if data is None else {"message": message, "data": data}
        self._out.append("44" + namespace_prefix(namespace) + dumps_compact(payload))

    def _take_request(self, namespace: str) -> None:
        """Consume the pending request for ``namespace`` or raise LocalProtocolError."""
        if namespace not in self._requested:
            raise LocalProtocolError(
                "the client has no pending request for this namespace", frame=repr(namespace)
            )
        self._requested.discard(namespace)

    def receive_text(self, text: str, now: float) -> list[ProtocolEvent]:
        """Feed one received text frame; see :meth:`BaseConnection.receive_text`.

        Raises LocalProtocolError before :meth:`open`.
        """
        if self._state is OPENING:
            raise LocalProtocolError("call open() before receiving frames")
        return super().receive_text(text, now)

    def _on_socket_packet(
        self, ptype: SocketPacketType, namespace: str, ack_id: int | None, data: Any, text: str
    ) -> list[ProtocolEvent]:
        """Route a client packet: namespace requests, then traffic on the connected one."""
        state = self._state
        if ptype is SocketPacketType.CONNECT:
            if state is CONNECTED and namespace == self._namespace:
                if self._version is ProtocolVersion.EIO3:
                    return []  # socket.io 1.x/2.x clients may repeat "40" for "/"
                raise RemoteProtocolError("namespace connected twice", frame=text)
            self._requested.add(namespace)
            return [ConnectRequested(namespace, data)]
        if state is OPEN:
            if ptype is SocketPacketType.DISCONNECT:
                # The client gave up on a namespace before it was accepted.
                self._requested.discard(namespace)
                return [Disconnected(namespace, "io client disconnect")]
            raise RemoteProtocolError(
                f"{ptype.name} before the namespace was connected", frame=text
            )
        if namespace != self._namespace:
            return []  # a namespace this connection never accepted: ignored like socket.io
        if ptype is SocketPacketType.ERROR:
            return [ErrorPacket(namespace, data)]
        return self._on_connected_packet(ptype, namespace, ack_id, data, text)
