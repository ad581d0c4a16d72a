"""Hypothesis properties: every codec round-trips, and no input yields anything but events or
a ProtocolError (any other exception out of agentbot.protocol is a bug)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbot.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from agentbot.protocol import (
    MAX_ACK_ID,
    ClientConnection,
    EnginePacketType,
    OpenPacket,
    ProtocolVersion,
    ServerConnection,
    SocketPacket,
    SocketPacketType,
    decode_engine_packet,
    decode_open_packet,
    decode_socket_packet,
    encode_engine_packet,
    encode_open_packet,
    encode_socket_packet,
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
)

from .wire import Pair

EVENT_TYPES = (
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
)
VERSIONS = st.sampled_from(list(ProtocolVersion))
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=4)
namespaces = st.just("/") | st.text(
    alphabet=st.characters(blacklist_characters=",?", blacklist_categories=("Cs",)), max_size=10
).map(lambda name: "/" + name)
ack_ids = st.integers(min_value=0, max_value=MAX_ACK_ID)


@st.composite
def socket_packets(draw: st.DrawFn, version: ProtocolVersion) -> SocketPacket:
    """Any valid text packet for ``version``."""
    ptype = draw(
        st.sampled_from(
            [
                SocketPacketType.CONNECT,
                SocketPacketType.DISCONNECT,
                SocketPacketType.EVENT,
                SocketPacketType.ACK,
                SocketPacketType.ERROR,
            ]
        )
    )
    namespace = draw(namespaces)
    data: Any = None
    ack_id: int | None = None
    if ptype is SocketPacketType.CONNECT:
        if version is ProtocolVersion.EIO4:
            data = draw(st.none() | json_objects)
    elif ptype is SocketPacketType.EVENT:
        data = [draw(st.text()), *draw(st.lists(json_values, max_size=4))]
        ack_id = draw(st.none() | ack_ids)
    elif ptype is SocketPacketType.ACK:
        data = draw(st.lists(json_values, max_size=4))
        ack_id = draw(ack_ids)
    elif ptype is SocketPacketType.ERROR:
        if version is ProtocolVersion.EIO4:
            data = draw(json_objects)
            data["message"] = draw(st.text())
        else:
            data = draw(json_values)
    return SocketPacket(ptype, data, namespace, ack_id)


# -- round trips ---------------------------------------------------------------------------


@FAST
@given(st.data())
def test_socket_packet_encode_then_decode_is_identity(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    packet = data.draw(socket_packets(version))
    assert decode_socket_packet(encode_socket_packet(packet), version) == packet


@FAST
@given(st.sampled_from(list(EnginePacketType)), st.text())
def test_engine_packet_encode_then_decode_is_identity(ptype: EnginePacketType, text: str) -> None:
    assert decode_engine_packet(encode_engine_packet(ptype, text)) == (ptype, text)


@FAST
@given(
    VERSIONS,
    st.text(min_size=1),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=1, max_value=2**40),
    st.lists(st.text(), max_size=3),
)
def test_open_packet_encode_then_decode_is_identity(
    version: ProtocolVersion,
    sid: str,
    interval_ms: int,
    timeout_ms: int,
    max_payload: int,
    upgrades: list[str],
) -> None:
    packet = OpenPacket(
        sid,
        interval_ms / 1000,
        timeout_ms / 1000,
        max_payload if version is ProtocolVersion.EIO4 else None,
        tuple(upgrades),
    )
    frame = encode_open_packet(packet, version)
    ptype, body = decode_engine_packet(frame)
    assert ptype is EnginePacketType.OPEN
    assert decode_open_packet(body, version) == packet


@FAST
@given(st.data())
def test_events_survive_the_trip_between_connections(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    pair = Pair(version)
    pair.handshake()
    name = data.draw(st.text(min_size=1))
    args = tuple(data.draw(st.lists(json_values, max_size=4)))
    ack = data.draw(st.booleans())
    ack_id = pair.client.send_event(name, *args, ack=ack)
    assert pair.to_server() == [Event(name, args, ack_id)]
    if ack_id is not None:
        pair.server.send_ack(ack_id, *args)
        assert pair.to_client() == [Ack(ack_id, args)]


# -- arbitrary input: events or ProtocolError, nothing else -------------------------------------

PREFIXES = ["", "0", "1", "2", "3", "4", "5", "6", "40", "41", "42", "43", "44", "45",
            "42/", "43/a,", "427", "4207", "42[", '42["x",', "40{", "0{"]  # fmt: skip
texts = (
    st.text()
    | st.text(alphabet='0123456789[]{}",:/-?ntrufalse ,.eE+-\\')
    | st.from_regex(r"\A[0-9]*(/[a-z,?]*)?[0-9]*[\[\{\"0-9ntf-].*\Z")
)


def only_protocol_errors(call: Any, *args: Any) -> Any:
    """Run ``call``; a ProtocolError is fine, any other exception fails the test."""
    try:
        return call(*args)
    except ProtocolError:
        return None


@FAST
@given(st.sampled_from(PREFIXES), texts, VERSIONS)
def test_arbitrary_text_decodes_to_packets_or_protocol_error(
    prefix: str, text: str, version: ProtocolVersion
) -> None:
    frame = prefix + text
    decoded = only_protocol_errors(decode_engine_packet, frame)
    if decoded is not None:
        assert isinstance(decoded[0], EnginePacketType)
        if decoded[0] is EnginePacketType.MESSAGE:
            packet = only_protocol_errors(decode_socket_packet, decoded[1], version)
            assert packet is None or isinstance(packet, SocketPacket)
        if decoded[0] is EnginePacketType.OPEN:
            opened = only_protocol_errors(decode_open_packet, decoded[1], version)
            assert opened is None or isinstance(opened, OpenPacket)
    packet = only_protocol_errors(decode_socket_packet, frame, version)
    assert packet is None or isinstance(packet, SocketPacket)


@FAST
@given(VERSIONS, st.lists(st.tuples(st.sampled_from(PREFIXES), texts), max_size=8), st.booleans())
def test_arbitrary_frames_into_connections_yield_events_or_protocol_error(
    version: ProtocolVersion, frames: list[tuple[str, str]], connected: bool
) -> None:
    pair = Pair(version)
    if connected:
        pair.handshake()
        pair.client.send_event("x", ack=True)
        pair.client.data_to_send()
    else:
        pair.server.open(0.0)
    for conn in (pair.client, pair.server):
        for now, (prefix, text) in enumerate(frames):
            try:
                events = conn.receive_text(prefix + text, float(now))
            except RemoteProtocolError:
                assert conn.state.value == "closed"
                continue
            except LocalProtocolError:
                assert conn.state.value == "closed"  # only once closed already
                continue
            assert all(isinstance(event, EVENT_TYPES) for event in events)
            assert all(isinstance(frame, str) for frame in conn.data_to_send())
            only_protocol_errors(conn.tick, float(now))


OPERATIONS = st.lists(
    st.sampled_from(
        [
            "send_event",
            "send_event_ack",
            "send_ack",
            "cancel_ack",
            "tick",
            "close",
            "disconnect",
            "accept",
            "refuse",
            "receive_ping",
            "receive_event",
            "receive_ack",
            "receive_close",
        ]
    ),
    max_size=12,
)


@FAST
@given(VERSIONS, OPERATIONS, st.integers(min_value=0, max_value=5), st.booleans())
def test_arbitrary_call_sequences_raise_only_protocol_errors(
    version: ProtocolVersion, operations: list[str], number: int, server_side: bool
) -> None:
    pair = Pair(version)
    pair.handshake()
    conn: ClientConnection | ServerConnection = pair.server if server_side else pair.client
    for step, operation in enumerate(operations):
        now = float(step * 10)
        if operation == "send_event":
            only_protocol_errors(conn.send_event, "x", number)
        elif operation == "send_event_ack":
            only_protocol_errors(lambda: conn.send_event("x", number, ack=True))
        elif operation == "send_ack":
            only_protocol_errors(conn.send_ack, number, None)
        elif operation == "cancel_ack":
            only_protocol_errors(conn.cancel_ack, number)
        elif operation == "tick":
            events = only_protocol_errors(conn.tick, now * 10)
            assert events is None or all(isinstance(e, Closed) for e in events)
        elif operation == "close":
            only_protocol_errors(conn.close)
        elif operation == "disconnect":
            only_protocol_errors(conn.disconnect)
        elif operation == "accept" and isinstance(conn, ServerConnection):
            only_protocol_errors(conn.accept)
        elif operation == "refuse" and isinstance(conn, ServerConnection):
            only_protocol_errors(conn.refuse, "no")
        elif operation == "receive_ping":
            only_protocol_errors(conn.receive_text, "2", now)
        elif operation == "receive_event":
            only_protocol_errors(conn.receive_text, f'42{number}["x"]', now)
        elif operation == "receive_ack":
            only_protocol_errors(conn.receive_text, f"43{number}[]", now)
        elif operation == "receive_close":
            only_protocol_errors(conn.receive_text, "1", now)
        assert all(isinstance(frame, str) for frame in conn.data_to_send())
        assert conn.next_deadline() is None or conn.state.value != "closed"


@pytest.mark.parametrize("version", list(ProtocolVersion))
def test_protocol_errors_close_the_connection_for_good(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(RemoteProtocolError):
        pair.client.receive_text("4garbage", 0.0)
    assert pair.client.state.value == "closed"
    for call in (
        lambda: pair.client.receive_text('42["x"]', 0.0),
        lambda: pair.client.send_event("x"),
        lambda: pair.client.close(),
    ):
        with pytest.raises(LocalProtocolError):
            call()


# -- against python-socketio's codec (an implementation nobody here wrote) ---------------------


@FAST
@given(st.data())
def test_python_socketio_agrees_with_our_codec_both_ways(data: st.DataObject) -> None:
    socketio_packet = pytest.importorskip("socketio.packet")
    packet = data.draw(socket_packets(ProtocolVersion.EIO4))
    theirs = socketio_packet.Packet(
        packet_type=int(packet.type),
        data=packet.data,
        namespace=packet.namespace,
        id=packet.ack_id,
    ).encode()
    assert decode_socket_packet(theirs, ProtocolVersion.EIO4) == packet
    decoded = socketio_packet.Packet(encoded_packet=encode_socket_packet(packet))
    assert decoded.packet_type == int(packet.type)
    assert decoded.data == packet.data
    assert (decoded.namespace or "/") == packet.namespace
    assert decoded.id == packet.ack_id
