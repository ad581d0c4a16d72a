"""A lean WebSocket session on httpx-ws: frames go straight from the socket to the caller.

httpx-ws's stock ``AsyncWebSocketSession`` runs a background reader task that hands every
frame to ``receive_text()`` through an unbuffered memory stream: two task switches per
frame, which caps a receive loop near 30k frames/s. Engine.IO already owns liveness and
framing above us, so this session keeps httpx-ws for what it does well (the HTTP upgrade
through an ``httpx.AsyncClient``: TLS, proxies, headers, the in-process ASGI transport) and
replaces the frame path: ``receive_texts()`` reads the stream once and returns every
complete text frame in that read, and ``send_texts()`` writes a batch of frames in one
write. The caller's own task does the reading, so a slow consumer is backpressure on the
socket, never a growing queue. Incoming frames are parsed by :mod:`agentbot.client.frames`
(a one-direction RFC 6455 reader, several times faster than wsproto's); wsproto still
encodes everything we send.

This relies on httpx-ws internals (the session constructor's keywords, ``stream`` and
``connection`` attributes, the anyio context-manager mixin hook), so pyproject pins
httpx-ws 0.9.x and tests/client covers this class directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import anyio
import httpcore
import wsproto
import wsproto.events
import wsproto.utilities
from httpx_ws import AsyncWebSocketSession

from agentbot.client.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    FrameError,
    FrameReader,
    FrameTooLarge,
)

__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "DEFAULT_MAX_FRAME_BYTES",
    "READ_CHUNK_BYTES",
    "FrameSession",
    "LinkClosed",
]

#: 1 MiB: Smartsupp's events are a few kB (a bulk after a reconnect tens of kB), and a cap
#: well below 16 MB keeps one hostile frame from costing the bot that much memory (issue 16).
DEFAULT_MAX_FRAME_BYTES = 1_048_576
#: RFC 6455 §7.4.1: "a message that is too big for it to process".
CLOSE_MESSAGE_TOO_BIG = 1009
READ_CHUNK_BYTES = 65_536
_CLOSE_TIMEOUT_SECONDS = 1.0

# What a network stream raises when the link breaks: httpcore's errors for real sockets;
# anyio's and wsproto's for httpx-ws's in-process ASGI stream.
_STREAM_ERRORS = (
    httpcore.NetworkError,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    wsproto.utilities.LocalProtocolError,
)


class LinkClosed(Exception):
    """The WebSocket ended: closed by the peer, reset, or broken by a bad frame."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class FrameSession(AsyncWebSocketSession):
    """An httpx-ws session without a background reader: see the module docstring."""

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[FrameSession]:
        self._reader = FrameReader(max_message_bytes=self.max_frame_bytes)
        self._closed_reason: str | None = None
        try:
            yield self
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_TIMEOUT_SECONDS):
                await self.close_quietly()

    async def receive_texts(self) -> list[str]:
        """Wait for data and return the complete text frames it finished (maybe several).

        Raises :class:`LinkClosed` when the socket ends for any reason. WebSocket pings are
        answered here; binary frames end the link (this API is text-only, PROTOCOL.md §1).
        """
        reader = self._reader
        reader.max_message_bytes = self.max_frame_bytes
        while True:
            if self._closed_reason is not None:
                raise LinkClosed(self._closed_reason)
            try:
                data = await self.stream.read(READ_CHUNK_BYTES)
            except _STREAM_ERRORS as exc:
                self._closed_reason = f"network error: {type(exc).__name__}"
                raise LinkClosed(self._closed_reason) from exc
            if not data:
                self._closed_reason = "connection closed by peer"
                raise LinkClosed(self._closed_reason)
            try:
                frames = reader.feed(data)
            except FrameTooLarge as exc:
                self._closed_reason = (
                    f"message too big: over the {exc.limit}-byte frame limit "
                    f"([smartsupp] max_frame_bytes); closed with code {CLOSE_MESSAGE_TOO_BIG}"
                )
                await self.close_quietly(CLOSE_MESSAGE_TOO_BIG, "message too big")
                raise LinkClosed(self._closed_reason) from exc
            except FrameError as exc:
                self._closed_reason = f"invalid WebSocket data: {exc}"
                await self.close_quietly(1002, "protocol error")
                raise LinkClosed(self._closed_reason) from exc
            texts: list[str] = []
            replies: list[bytes] = []
            for opcode, payload in frames:
                if isinstance(payload, str):  # OP_TEXT
                    texts.append(payload)
                elif opcode == OP_PING:
                    replies.append(self.connection.send(wsproto.events.Pong(payload=payload)))
                elif opcode == OP_CLOSE:
                    self._closed_reason = f"WebSocket closed by peer ({_close_code(payload)})"
                    break
                elif opcode == OP_BINARY:
                    self._closed_reason = "binary WebSocket frame received (text only)"
                    break
                # OP_PONG: nothing to do, Engine.IO owns liveness.
            if replies:
                await self._write(b"".join(replies))
            if texts:
                return texts

    async def send_texts(self, texts: Sequence[str]) -> None:
        """Write ``texts`` as text frames in one write; :class:`LinkClosed` if that fails."""
        if not texts:
            return
        try:
            data = b"".join(
                self.connection.send(wsproto.events.TextMessage(data=text)) for text in texts
            )
        except wsproto.utilities.LocalProtocolError as exc:
            raise LinkClosed("WebSocket is closing") from exc
        await self._write(data)

    async def _write(self, data: bytes) -> None:
        try:
            async with self._write_lock:
                await self.stream.write(data)
        except (
            httpcore.WriteError,
            httpcore.NetworkError,
            OSError,
            anyio.BrokenResourceError,
        ) as exc:
            self._closed_reason = f"network error: {type(exc).__name__}"
            raise LinkClosed(self._closed_reason) from exc

    async def close_quietly(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a WebSocket close frame if still possible, then close the stream; never raise."""
        state = self.connection.state
        if state not in (
            wsproto.connection.ConnectionState.LOCAL_CLOSING,
            wsproto.connection.ConnectionState.CLOSED,
        ):
            with contextlib.suppress(Exception):
                data = self.connection.send(wsproto.events.CloseConnection(code, reason))
                async with self._write_lock:
                    await self.stream.write(data)
        with contextlib.suppress(Exception):
            await self.stream.aclose()


def _close_code(payload: bytes) -> str:
    if len(payload) < 2:
        return "no code"
    code = int.from_bytes(payload[:2], "big")
    return f"code {code}"
