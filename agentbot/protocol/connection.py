"""The state machine both connection roles share (model: h11's and wsproto's connections).

A connection is fed received text frames and the current time, and answers with events;
calls such as ``send_event`` queue frames that ``data_to_send`` drains. It never touches a
socket or a clock. ``ClientConnection`` and ``ServerConnection`` add what only one side
does (the open handshake, the namespace request and its answer).
"""

from __future__ import annotations

import enum
import sys
from typing import Any, Final

from agentbot.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from agentbot.protocol.engineio import EnginePacketType, decode_engine_packet
from agentbot.protocol.events import (
    Ack,
    Closed,
    Disconnected,
    Ping,
    Pong,
    ProtocolEvent,
    new_event,
)
from agentbot.protocol.heartbeat import Heartbeat, HeartbeatAction
from agentbot.protocol.socketio import (
    SocketPacketType,
    check_ack_id,
    namespace_prefix,
    parse_socket_packet,
)
from agentbot.protocol.versions import ProtocolVersion
from agentbot.protocol.wirejson import dumps_compact

__all__ = ["ConnectionState"]

REASON_TRANSPORT_CLOSE: Final = "transport close"
REASON_PING_TIMEOUT: Final = "ping timeout"

_EVENT: Final = SocketPacketType.EVENT


class ConnectionState(enum.Enum):
    """Where a connection is in its life (see the transition table below)."""

    OPENING = "opening"
    """Before the Engine.IO open packet (client: waiting for it; server: before ``open()``)."""
    OPEN = "open"
    """The Engine.IO session is open; the namespace is not (or no longer) connected."""
    CONNECTED = "connected"
    """The namespace is connected: events and acks may flow."""
    CLOSED = "closed"
    """Closed by either side, timed out, or failed on a protocol error. Final."""


class Trigger(enum.Enum):
    """What moves a connection from one state to the next."""

    ENGINE_OPEN = "engine open"
    NAMESPACE_CONNECT = "namespace connect"
    NAMESPACE_DISCONNECT = "namespace disconnect"
    CLOSE = "close"


OPENING: Final = ConnectionState.OPENING
OPEN: Final = ConnectionState.OPEN
CONNECTED: Final = ConnectionState.CONNECTED
CLOSED: Final = ConnectionState.CLOSED

# State rules (PROTOCOL.md §1), for both roles:
# - The Engine.IO open packet (received by a client, sent by the server's open()) opens the
#   session. SIO 4 servers connect "/" unasked, so a SIO 4 server goes OPEN -> CONNECTED in
#   the same open() call and a SIO 4 client on "/" gets "40" right after the open packet.
# - The namespace is connected by "40" (client receives it; server sends it from accept())
#   and left by "41" from the peer, which returns the connection to OPEN: the Engine.IO
#   session lives on, and the caller decides whether to close it.
# - CLOSE covers everything that ends the session: the peer's engine close "1", our close()
#   or disconnect(), a heartbeat timeout, and any ProtocolError raised while receiving.
# - CLOSED is final. Afterwards receive_text, send_*, accept, refuse, open, close and
#   disconnect raise LocalProtocolError; data_to_send (to flush the last frames),
#   next_deadline (None), tick (no events) and cancel_ack (no-op) stay harmless so that
#   cleanup code needs no special cases.
# - A transition that is not in this table is a LocalProtocolError (a caller bug).
_TRANSITIONS: Final[dict[tuple[ConnectionState, Trigger], ConnectionState]] = {
    (OPENING, Trigger.ENGINE_OPEN): OPEN,
    (OPEN, Trigger.NAMESPACE_CONNECT): CONNECTED,
    (OPEN, Trigger.NAMESPACE_DISCONNECT): OPEN,
    (CONNECTED, Trigger.NAMESPACE_DISCONNECT): OPEN,
    (OPENING, Trigger.CLOSE): CLOSED,
    (OPEN, Trigger.CLOSE): CLOSED,
    (CONNECTED, Trigger.CLOSE): CLOSED,
}

_LIVE: Final = frozenset({OPENING, OPEN, CONNECTED})
_NO_LIMIT: Final = sys.maxsize


class BaseConnection:
    """What client and server connections share: framing, acks, heartbeat, closing.

    Not used directly: see ``ClientConnection`` and ``ServerConnection``.
    """

    __slots__ = (
        "_acks_owed",
        "_event_prefix",
        "_heartbeat",
        "_max_receive_bytes",
        "_max_receive_fast_chars",
        "_max_send_bytes",
        "_namespace",
        "_next_ack_id",
        "_out",
        "_pending_acks",
        "_state",
        "_version",
    )

    _SIDE: str = "peer"
    """Who the remote end is, for Disconnected reasons: "io server disconnect" etc."""

    def __init__(self, version: ProtocolVersion, *, namespace: str) -> None:
        if not isinstance(version, ProtocolVersion):
            raise LocalProtocolError("version must be a ProtocolVersion", frame=repr(version))
        self._version = version
        self._state = OPENING
        self._out: list[str] = []
        self._heartbeat: Heartbeat | None = None
        self._namespace = namespace
        self._event_prefix = "42" + namespace_prefix(namespace)
        self._next_ack_id = 0
        self._pending_acks: set[int] = set()
        self._acks_owed: set[int] = set()
        self._max_send_bytes: int | None = None
        self._max_receive_bytes: int | None = None
        self._max_receive_fast_chars = _NO_LIMIT

    # -- public, read-only -------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The current :class:`ConnectionState`."""
        return self._state

    @property
    def version(self) -> ProtocolVersion:
        """The protocol pair this connection speaks."""
        return self._version

    @property
    def namespace(self) -> str:
        """The Socket.IO namespace this connection uses (``/`` unless chosen otherwise)."""
        return self._namespace

    @property
    def pending_acks(self) -> frozenset[int]:
        """Ack ids of our events still waiting for an answer (not cancelled)."""
        return frozenset(self._pending_acks)

    # -- receiving ---------------------------------------------------------------------

    def receive_text(self, text: str, now: float) -> list[ProtocolEvent]:
        """Feed one received WebSocket text frame (one Engine.IO packet); return its events.

        Automatic replies (pongs, the SIO 5 namespace request) are queued for
        :meth:`data_to_send`. Raises RemoteProtocolError when the peer broke the protocol;
        the connection is CLOSED afterwards. Raises LocalProtocolError once CLOSED.
        """
        if self._state is CLOSED:
            raise LocalProtocolError("the connection is closed")
        try:
            if type(text) is not str:
                raise RemoteProtocolError("binary frames are not supported", frame=repr(text))
            if len(text) > self._max_receive_fast_chars:
                self._check_receive_size(text)
            if text[:1] == "4":
                ptype, namespace, ack_id, data = parse_socket_packet(text, 1, self._version)
                if ptype is _EVENT and self._state is CONNECTED and namespace == self._namespace:
                    # The hot path: one event on the connected namespace.
                    if ack_id is not None:
                        self._acks_owed.add(ack_id)
                    return [new_event(data[0], tuple(data[1:]), ack_id, namespace)]
                return self._on_socket_packet(ptype, namespace, ack_id, data, text)
            return self._on_engine_packet(text, now)
        except ProtocolError:
            self._fail()
            raise

    def _check_receive_size(self, text: str) -> None:
        """Refuse a frame longer than ``max_payload_bytes`` (counted in UTF-8 bytes)."""
        limit = self._max_receive_bytes
        if limit is not None and (
            len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit
        ):
            raise RemoteProtocolError(
                f"frame exceeds the maximum payload of {limit} bytes", frame=text
            )

    def _on_engine_packet(self, text: str, now: float) -> list[ProtocolEvent]:
        """Handle a non-message Engine.IO packet (open is the client's business)."""
        ptype, data = decode_engine_packet(text)
        if self._state is OPENING or ptype is EnginePacketType.OPEN:
            return self._on_open_packet(ptype, data, text, now)
        if ptype is EnginePacketType.PING:
            # Both versions answer any ping, "2probe" included.
            self._out.append("3" + data)
            if self._heartbeat is not None:
                self._heartbeat.on_ping(now)
            return [Ping(data)]
        if ptype is EnginePacketType.PONG:
            if self._heartbeat is not None:
                self._heartbeat.on_pong(now)
            return [Pong(data)]
        if ptype is EnginePacketType.CLOSE:
            self._end()
            return [Closed(REASON_TRANSPORT_CLOSE, by_peer=True)]
        # NOOP, and UPGRADE (meaningless on a WebSocket-only session): ignored.
        return []

    def _on_open_packet(
        self, ptype: EnginePacketType, data: str, text: str, now: float
    ) -> list[ProtocolEvent]:
        """Handle the open packet, or any packet before it; overridden by the client."""
        raise RemoteProtocolError("unexpected Engine.IO open packet", frame=text)

    def _on_socket_packet(
        self, ptype: SocketPacketType, namespace: str, ack_id: int | None, data: Any, text: str
    ) -> list[ProtocolEvent]:
        """Handle every Socket.IO packet except the hot-path event; per role."""
        raise NotImplementedError

    def _on_connected_packet(
        self, ptype: SocketPacketType, namespace: str, ack_id: int | None, data: Any, text: str
    ) -> list[ProtocolEvent]:
        """Handle EVENT, ACK and DISCONNECT on the connected namespace (both roles)."""
        if ptype is _EVENT:
            if ack_id is not None:
                self._acks_owed.add(ack_id)
            return [new_event(data[0], tuple(data[1:]), ack_id, namespace)]
        if ptype is SocketPacketType.ACK:
            assert ack_id is not None  # the codec guarantees it for ACK
            return self._on_ack(ack_id, data, namespace, text)
        if ptype is SocketPacketType.DISCONNECT:
            self._transition(Trigger.NAMESPACE_DISCONNECT)
            return [Disconnected(namespace, f"io {self._SIDE} disconnect")]
        raise RemoteProtocolError(f"unexpected {ptype.name} packet", frame=text)

    def _on_ack(
        self, ack_id: int, data: list[Any], namespace: str, text: str
    ) -> list[ProtocolEvent]:
        """Match an ACK to our pending event; late answers to cancelled ids are dropped."""
        if ack_id in self._pending_acks:
            self._pending_acks.discard(ack_id)
            return [Ack(ack_id, tuple(data), namespace)]
        if ack_id < self._next_ack_id:
            return []  # cancelled (timed out) or answered already: nobody waits for it
        raise RemoteProtocolError("ACK for an ack id that was never issued", frame=text)

    # -- sending -----------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Drain and return the queued text frames, oldest first (works in every state)."""
        out = self._out
        self._out = []
        return out

    def send_event(self, name: str, *args: Any, ack: bool = False) -> int | None:
        """Queue the event ``name(*args)``; with ``ack=True`` return its new ack id.

        Ack ids count up from 0 per connection; the answer arrives as an :class:`Ack` with
        that id (or never: then call :meth:`cancel_ack`). Raises LocalProtocolError unless
        CONNECTED, for a non-string or empty name, a payload JSON cannot carry, or a frame
        larger than the peer's maximum payload.
        """
        self._require_connected("send an event")
        if not isinstance(name, str) or not name:
            raise LocalProtocolError("event name must be a non-empty string", frame=repr(name))
        payload = dumps_compact([name, *args])
        if not ack:
            self._queue_checked(self._event_prefix + payload)
            return None
        ack_id = self._next_ack_id
        self._queue_checked(self._event_prefix + str(ack_id) + payload)
        self._next_ack_id = ack_id + 1
        self._pending_acks.add(ack_id)
        return ack_id

    def send_ack(self, ack_id: int, *args: Any) -> None:
        """Queue the answer ``args`` to the peer's event that carried ``ack_id``.

        Raises LocalProtocolError unless CONNECTED, when the peer never asked for that id (or
        it was answered already), or for a payload JSON cannot carry.
        """
        self._require_connected("send an ack")
        if type(ack_id) is not int or ack_id not in self._acks_owed:
            raise LocalProtocolError("no event awaits an ack with this id", frame=repr(ack_id))
        frame = (
            "43"
            + namespace_prefix(self._namespace)
            + str(check_ack_id(ack_id))
            + dumps_compact(list(args))
        )
        self._queue_checked(frame)
        self._acks_owed.discard(ack_id)

    def cancel_ack(self, ack_id: int) -> None:
        """Stop waiting for the answer to ``ack_id``: a late Ack for it is dropped silently.

        Forgetting an id that was answered or cancelled already does nothing (also once
        CLOSED); an id never issued is a LocalProtocolError.
        """
        if type(ack_id) is not int or not 0 <= ack_id < self._next_ack_id:
            raise LocalProtocolError("this ack id was never issued", frame=repr(ack_id))
        self._pending_acks.discard(ack_id)

    def _queue_checked(self, frame: str) -> None:
        """Queue one Engine.IO message frame after checking it against the peer's limit."""
        limit = self._max_send_bytes
        if limit is not None and len(frame) * 4 > limit:
            size = len(frame.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise LocalProtocolError(
                    f"frame of {size} bytes exceeds the peer's maximum payload of {limit} bytes"
                )
        self._out.append(frame)

    # -- time --------------------------------------------------------------------------

    def tick(self, now: float) -> list[ProtocolEvent]:
        """Run the heartbeat at ``now``: maybe queue a ping, maybe report the timeout.

        Returns ``[Closed("ping timeout", by_peer=False)]`` when the peer fell silent (the
        connection is then CLOSED), else an empty list. Harmless once CLOSED.
        """
        heartbeat = self._heartbeat
        if heartbeat is None or self._state is CLOSED:
            return []
        action = heartbeat.tick(now)
        if action is HeartbeatAction.SEND_PING:
            self._out.append("2")
        elif action is HeartbeatAction.TIMED_OUT:
            self._end()
            return [Closed(REASON_PING_TIMEOUT, by_peer=False)]
        return []

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next run (on the caller's clock), or None if never."""
        if self._heartbeat is None or self._state is CLOSED:
            return None
        return self._heartbeat.next_deadline()

    # -- closing -----------------------------------------------------------------------

    def disconnect(self) -> None:
        """Leave the namespace (``41``, if connected) and close the session (``1``).

        The connection is CLOSED; drain :meth:`data_to_send` to get the frames out.
        """
        self._require_live("disconnect")
        if self._state is CONNECTED:
            self._out.append("41" + namespace_prefix(self._namespace))
        self.close()

    def close(self) -> None:
        """Close the Engine.IO session (queue ``1``); the connection is CLOSED."""
        self._require_live("close")
        self._out.append("1")
        self._end()

    def _end(self) -> None:
        """Enter CLOSED and stop the heartbeat."""
        self._transition(Trigger.CLOSE)
        if self._heartbeat is not None:
            self._heartbeat.stop()

    def _fail(self) -> None:
        """A protocol error happened: CLOSED, nothing more is sent or accepted."""
        if self._state is not CLOSED:
            self._end()

    # -- state bookkeeping ---------------------------------------------------------------

    def _transition(self, trigger: Trigger) -> None:
        """Apply ``trigger`` through the table; an unlisted move is a LocalProtocolError."""
        new_state = _TRANSITIONS.get((self._state, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"cannot take {trigger.value!r} in state {self._state.value!r}"
            )
        self._state = new_state

    def _require_connected(self, what: str) -> None:
        """Raise LocalProtocolError unless the namespace is connected."""
        if self._state is not CONNECTED:
            raise LocalProtocolError(
                f"cannot {what} in state {self._state.value!r} (namespace not connected)"
            )

    def _require_live(self, what: str) -> None:
        """Raise LocalProtocolError once the connection is CLOSED."""
        if self._state not in _LIVE:
            raise LocalProtocolError(f"cannot {what}: the connection is closed")
