"""The client's WebSocket frame reader, checked against wsproto's server-side encoder."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from agentbot.client.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FrameError,
    FrameReader,
)

Message = tuple[str, object]

messages = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.lists(st.text(max_size=300), min_size=1, max_size=4)),
        st.tuples(st.just("bytes"), st.binary(max_size=70_000)),
        st.tuples(st.just("ping"), st.binary(max_size=125)),
    ),
    max_size=12,
)


def encode(items: list[Message]) -> tuple[bytes, list[tuple[int, object]]]:
    """Encode with wsproto as a server would; return the bytes and what a reader must see."""
    server = Connection(ConnectionType.SERVER)
    wire = b""
    expected: list[tuple[int, object]] = []
    for kind, value in items:
        if kind == "text":
            parts = list(value)  # type: ignore[call-overload]
            for i, part in enumerate(parts):
                wire += server.send(TextMessage(data=part, message_finished=i == len(parts) - 1))
            expected.append((OP_TEXT, "".join(parts)))
        elif kind == "bytes":
            wire += server.send(BytesMessage(data=value))  # type: ignore[arg-type]
            expected.append((OP_BINARY, value))
        else:
            wire += server.send(Ping(payload=value))  # type: ignore[arg-type]
            expected.append((OP_PING, value))
    return wire, expected


@settings(max_examples=200, deadline=None)
@given(items=messages, chunk=st.integers(min_value=1, max_value=5000))
def test_reader_sees_what_wsproto_encoded_whatever_the_read_sizes(
    items: list[Message], chunk: int
) -> None:
    wire, expected = encode(items)
    reader = FrameReader(max_message_bytes=1_000_000)
    got: list[tuple[int, object]] = []
    for start in range(0, len(wire), chunk):
        got.extend(reader.feed(wire[start : start + chunk]))
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_yield_frames_or_frame_error_only(data: bytes) -> None:
    reader = FrameReader(max_message_bytes=10_000)
    with contextlib.suppress(FrameError):
        reader.feed(data)


def test_close_frame_is_reported_with_its_payload() -> None:
    server = Connection(ConnectionType.SERVER)
    wire = server.send(CloseConnection(code=1001, reason="bye"))
    assert FrameReader(max_message_bytes=100).feed(wire) == [(OP_CLOSE, b"\x03\xe9bye")]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"\x81\x85abcd" + b"x" * 5, "masked"),
        (b"\xc1\x01x", "reserved bits"),
        (b"\x89\x7e\x00\x80" + b"x" * 128, "control frames"),
        (b"\x09\x01x", "control frames"),
        (b"\x80\x01x", "continuation frame without"),
        (b"\x01\x01x\x81\x01y", "new message started"),
        (b"\x81\x7e\x00\x05hello", "minimally encoded"),
        (b"\x83\x00", "unknown opcode"),
        (b"\x81\x02\xff\xfe", "UTF-8"),
        (b"\x81\x7e\x01\x00" + b"x" * 256, "larger than"),
    ],
)
def test_rule_breaking_frames_raise_frame_error(wire: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        FrameReader(max_message_bytes=200).feed(wire)
