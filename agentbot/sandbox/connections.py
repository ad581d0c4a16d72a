"""One WebSocket connection to the sandbox: the sans-IO server protocol driven by real I/O.

Each connection runs three tasks in its own task group: a receiver (WebSocket text ->
:class:`~agentbot.protocol.ServerConnection` -> the hub), a timer (sleeps until the
protocol's next heartbeat deadline) and a sender (drains a bounded queue to the socket). The
hub only ever calls the synchronous methods here (``emit``, ``reply``, ``abort`` ...), which
queue frames without waiting, so a slow client never blocks the hub or another connection:
a client whose queue overflows is disconnected instead.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.websockets import WebSocket, WebSocketDisconnect

from agentbot.errors import ProtocolError, safe_snippet
from agentbot.protocol import (
    Closed,
    ConnectionState,
    ConnectRequested,
    Disconnected,
    Event,
    ProtocolVersion,
    ServerConnection,
)

if TYPE_CHECKING:
    from agentbot.sandbox.hub import Sandbox

__all__ = ["REDACTED", "CloseCode", "SandboxConnection", "Side", "redact", "redact_frame"]

logger = logging.getLogger(__name__)

Side = Literal["agent", "visitor"]


class CloseCode:
    """WebSocket close codes the sandbox uses (RFC 6455 §7.4.1)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # a dropped socket (fault) or server shutdown
    PROTOCOL_ERROR = 1002  # malformed Engine.IO / Socket.IO input
    UNSUPPORTED_DATA = 1003  # binary frames
    POLICY = 1008  # slow consumer
    TOO_BIG = 1009  # frame over max payload


_REASON_MAX_CHARS = 120  # a close reason must fit in 123 bytes

REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"key", "authToken", "authtoken", "deviceToken"})
"""Request fields never kept in recordings: the control API must not leak credentials."""

_SECRET_IN_FRAME = re.compile(r'"(key|authToken|authtoken|deviceToken)":"(?:[^"\\]|\\.)*"')


def redact_frame(text: str) -> str:
    """Return the frame with the values of secret string fields replaced."""
    return _SECRET_IN_FRAME.sub(lambda m: f'"{m.group(1)}":"{REDACTED}"', text)


def redact(value: Any) -> Any:
    """Return a copy of decoded request arguments with secret fields replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if k in SECRET_FIELDS and v is not None else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class _CloseAfterFlush:
    """Queue marker: everything queued before it is sent, then the socket is closed."""

    code: int
    reason: str


_Outgoing = str | _CloseAfterFlush


class SandboxConnection:
    """The server end of one client's WebSocket (agent, visitor, or not yet known)."""

    def __init__(
        self,
        hub: Sandbox,
        *,
        conn_id: str,
        version: ProtocolVersion,
        side: Side | None = None,
    ) -> None:
        config = hub.config
        self.hub = hub
        self.id = conn_id
        self.version = version
        self.side: Side | None = side
        self.agent_id: str | None = None
        self.visitor_id: str | None = None
        self.authenticated = False  # agent.connect / visitor.connect succeeded
        self.logged_out = False  # agent.logout was answered
        self.track_visitors = False
        self.heartbeat_stopped = False
        self.is_open = True
        self.opened_at = hub.state.now()
        self.closed_at: float | None = None
        self.close_reason: str | None = None
        self.frames: deque[dict[str, Any]] = deque(maxlen=config.max_recorded_frames)
        # Bounded like the frames: a sandbox left running for days keeps the recent past.
        self.requests: deque[dict[str, Any]] = deque(maxlen=config.max_recorded_frames)
        self.events: deque[dict[str, Any]] = deque(maxlen=config.max_recorded_frames)
        self.protocol = ServerConnection(
            version,
            sid=secrets.token_urlsafe(15),
            ping_interval_seconds=config.ping_interval_seconds,
            ping_timeout_seconds=config.ping_timeout_seconds,
            max_payload_bytes=config.max_payload_bytes,
        )
        self._clock: Callable[[], float] = config.clock
        self._queue_size = config.outgoing_queue_frames
        self._send_stream: MemoryObjectSendStream[_Outgoing] | None = None
        self._finished: anyio.Event | None = None
        self._wake: anyio.Event | None = None
        self._timer_deadline: float | None = None  # what the timer sleeps until (None: forever)
        self._task_group: TaskGroup | None = None
        self._close_code = CloseCode.NORMAL
        self._close_reason = ""

    # -- what the hub and the control API call (synchronous, never waits) ------------------

    def to_json(self) -> dict[str, Any]:
        """The control API's view of this connection."""
        return {
            "id": self.id,
            "side": self.side,
            "eio": self.version.engineio,
            "agentId": self.agent_id,
            "visitorId": self.visitor_id,
            "open": self.is_open,
            "openedAt": self.opened_at,
            "closedAt": self.closed_at,
            "closeReason": self.close_reason,
            "trackVisitors": self.track_visitors,
            "authenticated": self.authenticated,
            "heartbeatStopped": self.heartbeat_stopped,
        }

    def emit(self, name: str, *args: Any) -> None:
        """Send an event to this client (no ack requested)."""
        if not self.is_open:
            return
        try:
            self.protocol.send_event(name, *args)
        except ProtocolError as exc:  # e.g. over the client's max payload: say so, carry on
            logger.warning("connection %s: cannot send %s: %s", self.id, name, exc)
            return
        self._record_event(name, args)
        self._flush()

    def reply(self, request: str, ack_id: int, args: list[Any]) -> None:
        """Answer a request's ack id with ``args`` (``[error, result]``), honouring ack faults."""
        if not self.is_open:
            return
        fault = self.hub.faults.take_ack_fault(request, self.agent_id)
        if fault is not None and fault.action == "drop":
            logger.info("connection %s: dropping the ack of %s (fault)", self.id, request)
            self.hub.notify()
            return
        if fault is not None and fault.delay_seconds > 0 and self._task_group is not None:
            logger.info("connection %s: delaying the ack of %s (fault)", self.id, request)
            self._task_group.start_soon(self._delayed_reply, fault.delay_seconds, ack_id, args)
            self.hub.notify()
            return
        self._send_ack(ack_id, args)

    def send_raw(self, text: str) -> None:
        """Queue a frame as is, bypassing the protocol (the malformed-frame fault)."""
        if self.is_open:
            self._enqueue(text)

    def set_heartbeat_stopped(self, stopped: bool) -> None:
        """Stop (or resume) heartbeats: no pongs (EIO 3), no pings (EIO 4), no timeouts."""
        self.heartbeat_stopped = stopped
        self._wake_timer()

    def close(self, reason: str, *, code: int = CloseCode.NORMAL) -> None:
        """Close cleanly: Engine.IO close packet, queued frames flushed, then the socket."""
        if not self.is_open:
            return
        with contextlib.suppress(ProtocolError):  # closed at the protocol level already
            self.protocol.close()
        self._flush()
        self._enqueue(_CloseAfterFlush(code, reason))

    def abort(self, reason: str, *, code: int = CloseCode.GOING_AWAY) -> None:
        """Drop the socket now, without an Engine.IO close packet; queued frames are lost."""
        if self._close_reason == "":
            self._close_code, self._close_reason = code, reason
        if self._finished is not None:
            self._finished.set()
        self._mark_closed(reason)

    def wake(self) -> None:
        """Re-read the clock and the next deadline now (after a virtual clock moved)."""
        self._wake_timer()

    # -- the connection's life --------------------------------------------------------------

    async def run(self, websocket: WebSocket) -> None:
        """Serve the accepted ``websocket`` until either side closes it."""
        send_stream, receive_stream = anyio.create_memory_object_stream[_Outgoing](
            max_buffer_size=self._queue_size
        )
        self._send_stream = send_stream
        self._finished = anyio.Event()
        self.protocol.open(self._clock())
        self._flush()
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                task_group.start_soon(self._send_loop, websocket, receive_stream)
                task_group.start_soon(self._timer_loop)
                task_group.start_soon(self._receive_loop, websocket)
                await self._finished.wait()
                task_group.cancel_scope.cancel()
        finally:
            self._task_group = None
            send_stream.close()
            receive_stream.close()
            self._mark_closed(self._close_reason or "closed")
            with anyio.move_on_after(1, shield=True):
                await _close_quietly(websocket, self._close_code, self._close_reason)

    async def _receive_loop(self, websocket: WebSocket) -> None:
        while self.is_open:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                self._finish(CloseCode.NORMAL, "client disconnected")
                return
            text = message.get("text")
            if text is None:
                self._record("in", repr(message.get("bytes"))[:_REASON_MAX_CHARS])
                self._fail(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported")
                return
            self.receive_text(text)

    def receive_text(self, text: str) -> None:
        """Feed one received frame through the protocol and hand its events to the hub."""
        self._record("in", redact_frame(text) if '"' in text else text)
        try:
            events = self.protocol.receive_text(text, self._clock())
        except ProtocolError as exc:
            logger.info("connection %s: malformed frame: %s", self.id, exc)
            code = CloseCode.PROTOCOL_ERROR
            if len(text.encode("utf-8")) > self.hub.config.max_payload_bytes:
                code = CloseCode.TOO_BIG
            self._flush()
            self._fail(code, f"protocol error: {exc}")
            return
        self._flush()
        for event in events:
            if not self.is_open:
                return
            if isinstance(event, Event):
                self._record_request(event)
                self.hub.handle_request(self, event.name, event.args, event.ack_id)
            elif isinstance(event, ConnectRequested):
                # One namespace per connection: only "/" before it is connected is accepted.
                if event.namespace == "/" and self.protocol.state is ConnectionState.OPEN:
                    self.protocol.accept(event.namespace)
                else:
                    self.protocol.refuse(
                        f"namespace {event.namespace!r} is not served here",
                        namespace=event.namespace,
                    )
                self._flush()
            elif isinstance(event, Disconnected):
                self.close("client disconnected the namespace")
            elif isinstance(event, Closed):
                self._finish(CloseCode.NORMAL, f"closed: {event.reason}")
        self._wake_timer_if_sooner()

    async def _timer_loop(self) -> None:
        while self.is_open:
            deadline = None if self.heartbeat_stopped else self.protocol.next_deadline()
            self._timer_deadline = deadline
            self._wake = anyio.Event()
            delay = math.inf if deadline is None else max(0.0, deadline - self._clock())
            with anyio.move_on_after(delay):
                await self._wake.wait()
            if self.heartbeat_stopped or not self.is_open:
                continue
            for event in self.protocol.tick(self._clock()):
                if isinstance(event, Closed):
                    self._flush()
                    self._finish(CloseCode.NORMAL, f"closed: {event.reason}")
                    return
            self._flush()

    async def _send_loop(
        self, websocket: WebSocket, receive_stream: MemoryObjectReceiveStream[_Outgoing]
    ) -> None:
        # Send everything already queued before waiting again. anyio's receive() yields to
        # the event loop once per item, so one frame per pass would let a connection fed by
        # many others (an agent hearing every visitor) fall behind a burst and be closed as a
        # slow consumer although its client keeps up. The socket's own flow control still
        # applies: send_text waits while the transport is paused.
        async for first in receive_stream:
            item: _Outgoing = first
            while True:
                if isinstance(item, _CloseAfterFlush):
                    self._finish(item.code, item.reason)
                    return
                try:
                    await websocket.send_text(item)
                except (OSError, RuntimeError, WebSocketDisconnect):
                    self._finish(CloseCode.GOING_AWAY, "client went away")
                    return
                try:
                    item = receive_stream.receive_nowait()
                except anyio.WouldBlock:
                    break
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    return

    async def _delayed_reply(self, delay_seconds: float, ack_id: int, args: list[Any]) -> None:
        await anyio.sleep(delay_seconds)
        self._send_ack(ack_id, args)

    # -- internals --------------------------------------------------------------------------

    def _send_ack(self, ack_id: int, args: list[Any]) -> None:
        if not self.is_open:
            return
        try:
            self.protocol.send_ack(ack_id, *args)
        except ProtocolError as exc:
            logger.warning("connection %s: cannot send ack %s: %s", self.id, ack_id, exc)
            return
        self._flush()

    def _flush(self) -> None:
        for frame in self.protocol.data_to_send():
            if self.heartbeat_stopped and frame[:1] in ("2", "3"):
                continue  # the stopped-heartbeat fault: swallow pings and pongs
            self._enqueue(frame)

    def _enqueue(self, item: _Outgoing) -> None:
        if self._send_stream is None or not self.is_open:
            return
        if isinstance(item, str):
            self._record("out", item)
        try:
            self._send_stream.send_nowait(item)
        except anyio.WouldBlock:
            logger.warning("connection %s: outgoing queue full, disconnecting", self.id)
            self.abort("slow consumer: outgoing queue full", code=CloseCode.POLICY)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the connection is shutting down

    def _finish(self, code: int, reason: str) -> None:
        if self._close_reason == "":
            self._close_code, self._close_reason = code, reason[:_REASON_MAX_CHARS]
        if self._finished is not None:
            self._finished.set()

    def _fail(self, code: int, reason: str) -> None:
        self._finish(code, reason)
        self._mark_closed(reason)

    def _mark_closed(self, reason: str) -> None:
        if not self.is_open:
            return
        self.is_open = False
        self.closed_at = self._clock()
        self.close_reason = reason[:_REASON_MAX_CHARS]
        self.hub.connection_closed(self)

    def _wake_timer(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _wake_timer_if_sooner(self) -> None:
        # A received frame only ever pushes the heartbeat deadline later (a ping, a pong): the
        # timer then wakes at its old deadline, finds nothing due and sleeps on. Waking it for
        # every frame cost a task switch and a cancel scope per message under load.
        if self.heartbeat_stopped:
            return
        deadline = self.protocol.next_deadline()
        if deadline is not None and (
            self._timer_deadline is None or deadline < self._timer_deadline
        ):
            self._wake_timer()

    def _record(self, direction: Literal["in", "out"], text: str) -> None:
        self.frames.append(
            {"seq": self.hub.state.next_seq(), "t": self._clock(), "dir": direction, "text": text}
        )
        self.hub.notify()

    def _record_request(self, event: Event) -> None:
        self.requests.append(
            {
                "seq": self.hub.state.next_seq(),
                "t": self._clock(),
                "name": event.name,
                "args": redact(list(event.args)),
                "ackId": event.ack_id,
            }
        )

    def _record_event(self, name: str, args: tuple[Any, ...]) -> None:
        self.events.append(
            {"seq": self.hub.state.next_seq(), "t": self._clock(), "name": name, "args": list(args)}
        )


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    """Close the socket; a client that is already gone is not an error."""
    try:
        await websocket.close(code=code, reason=reason[:_REASON_MAX_CHARS])
    except (OSError, RuntimeError, WebSocketDisconnect):
        logger.debug("close of an already closed websocket: %s", safe_snippet(reason))
