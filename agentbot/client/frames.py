"""Parse the WebSocket frames a server sends to a client (RFC 6455 §5), fast.

wsproto's general-purpose parser costs more per frame than everything else on the client's
receive path put together (JSON, Engine.IO/Socket.IO, typed decoding). The client only
ever parses one direction, without extensions, so this reader does just that: unmasked
frames, RSV bits clear, control frames short and unfragmented, text checked as strict
UTF-8, a cap on message size. wsproto still encodes everything we send (masking, close
handshake). tests/client/test_frames.py checks this reader against wsproto's encoder
under hypothesis.
"""

from __future__ import annotations

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameError",
    "FrameReader",
    "FrameTooLarge",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_DATA_OPCODES = (OP_TEXT, OP_BINARY)
_CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)


class FrameError(Exception):
    """The server broke RFC 6455 (or our size cap); the link must be closed."""


class FrameTooLarge(FrameError):
    """A message is over ``max_message_bytes``: refused from its header, never buffered."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class FrameReader:
    """Incremental parser: :meth:`feed` bytes, get back complete messages and control frames.

    Each item returned is ``(opcode, payload)``: a ``str`` for text messages (fragments
    already joined), ``bytes`` for binary messages, pings, pongs and close frames.
    """

    __slots__ = (
        "_buffer",
        "_fragment_opcode",
        "_fragments",
        "_fragments_bytes",
        "max_message_bytes",
    )

    def __init__(self, *, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragments_bytes = 0
        self._fragment_opcode: int | None = None

    def feed(self, data: bytes) -> list[tuple[int, str | bytes]]:
        """Add received bytes; return what they complete. Raises :class:`FrameError`."""
        buf = self._buffer
        buf += data
        out: list[tuple[int, str | bytes]] = []
        size = len(buf)
        pos = 0
        limit = self.max_message_bytes
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 & 0x70:
                raise FrameError("reserved bits set without a negotiated extension")
            if b1 & 0x80:
                raise FrameError("the server sent a masked frame")
            length = b1 & 0x7F
            header = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                if length < 126:
                    raise FrameError("payload length not minimally encoded")
                header = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if length < 65536 or length >> 63:
                    raise FrameError("payload length not minimally encoded")
                header = 10
            fin = b0 & 0x80
            opcode = b0 & 0x0F
            if length > limit:
                raise FrameTooLarge(f"frame larger than {limit} bytes", limit=limit)
            end = pos + header + length
            if end > size:
                break
            payload = bytes(buf[pos + header : end])
            pos = end
            if opcode in _DATA_OPCODES:
                if self._fragment_opcode is not None:
                    raise FrameError("new message started inside a fragmented one")
                if fin:
                    out.append((opcode, _decode(opcode, payload)))
                else:
                    self._fragment_opcode = opcode
                    self._fragments = [payload]
                    self._fragments_bytes = length
            elif opcode == OP_CONTINUATION:
                if self._fragment_opcode is None:
                    raise FrameError("continuation frame without a message to continue")
                self._fragments.append(payload)
                self._fragments_bytes += length
                if self._fragments_bytes > limit:
                    raise FrameTooLarge(f"message larger than {limit} bytes", limit=limit)
                if fin:
                    first = self._fragment_opcode
                    whole = b"".join(self._fragments)
                    self._fragment_opcode = None
                    self._fragments = []
                    self._fragments_bytes = 0
                    out.append((first, _decode(first, whole)))
            elif opcode in _CONTROL_OPCODES:
                if not fin or length > 125:
                    raise FrameError("control frames must be short and unfragmented")
                out.append((opcode, payload))
            else:
                raise FrameError(f"unknown opcode {opcode:#x}")
        if pos:
            del buf[:pos]
        return out


def _decode(opcode: int, payload: bytes) -> str | bytes:
    if opcode != OP_TEXT:
        return payload
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError("text frame is not valid UTF-8") from exc
