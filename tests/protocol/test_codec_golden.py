"""Golden frames from PROTOCOL.md §1-2 and the vendor seed, decoded and encoded exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol import (
    MAX_ACK_ID,
    EnginePacketType,
    OpenPacket,
    ProtocolVersion,
    SocketPacket,
    SocketPacketType,
    decode_engine_packet,
    decode_open_packet,
    decode_socket_packet,
    encode_engine_packet,
    encode_open_packet,
    encode_socket_packet,
)

EIO3 = ProtocolVersion.EIO3
EIO4 = ProtocolVersion.EIO4
BOTH = pytest.mark.parametrize("version", [EIO3, EIO4])

# The seed's agent.connect request example, and its success and error replies.
AGENT_CONNECT = {
    "version": 5,
    "id": "345111",
    "key": "d57ad424c173ea4541bef97b766c168a83042788",
    "authToken": "6d267d6cd580a4c01afbb2f0b565ab7d",
    "authtoken": "33aab1d14b37a28237d61ec166d8ebb1",
    "deviceToken": None,
    "deviceType": None,
    "devicePlatform": None,
    "trackVisitors": False,
    "bundleVersion": "iOS (2.1.0)",
}
CONNECT_REPLY = {
    "serverVersion": 3,
    "agent": {"id": "345111", "status": "online", "groups": [], "nickname": "morlok"},
    "account": {"agents": [], "groups": [{"key": "g67soJw02", "name": "Support"}]},
}
AUTH_FAILURE = {
    "message": "Auth token is invalid",
    "event": "agent.connect",
    "type": "auth_failure",
}
TYPING = {"chatId": "co2wgLaNKxtOe", "visitorId": "viJqfKK4RIOh", "typing": {"is": True}}


def compact(value: Any) -> str:
    """JSON as JSON.stringify writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- Engine.IO ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("1", (EnginePacketType.CLOSE, "")),
        ("2", (EnginePacketType.PING, "")),
        ("3", (EnginePacketType.PONG, "")),
        ("2probe", (EnginePacketType.PING, "probe")),
        ("3probe", (EnginePacketType.PONG, "probe")),
        ("5", (EnginePacketType.UPGRADE, "")),
        ("6", (EnginePacketType.NOOP, "")),
        ('42["chat.typing",{}]', (EnginePacketType.MESSAGE, '2["chat.typing",{}]')),
        ('0{"sid":"x"}', (EnginePacketType.OPEN, '{"sid":"x"}')),
    ],
)
def test_engine_packet_golden_frames_decode(frame: str, expected: tuple[Any, str]) -> None:
    assert decode_engine_packet(frame) == expected
    assert encode_engine_packet(*expected) == frame


@pytest.mark.parametrize("frame", ["", "7", "9", "b4AAAA", "x", " 4", "\x004"])
def test_engine_packet_with_unknown_type_is_remote_error(frame: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_engine_packet(frame)


def test_binary_websocket_frame_is_refused_with_a_clear_error() -> None:
    with pytest.raises(RemoteProtocolError, match="binary frames are not supported"):
        decode_engine_packet(b"4hello")  # type: ignore[arg-type]


def test_encode_engine_packet_refuses_unknown_type_and_non_text() -> None:
    with pytest.raises(LocalProtocolError):
        encode_engine_packet(9, "x")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        encode_engine_packet(EnginePacketType.MESSAGE, b"x")  # type: ignore[arg-type]


def test_open_packet_eio4_golden() -> None:
    data = (
        '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}'
    )
    assert decode_open_packet(data, EIO4) == OpenPacket(
        sid="lv_VI97HAXpY6yYWAAAC",
        ping_interval_seconds=25.0,
        ping_timeout_seconds=20.0,
        max_payload_bytes=1_000_000,
        upgrades=(),
    )
    assert encode_open_packet(decode_open_packet(data, EIO4), EIO4) == "0" + data


def test_open_packet_eio3_has_no_max_payload_and_keeps_upgrades() -> None:
    data = '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}'
    packet = decode_open_packet(data, EIO3)
    assert packet.max_payload_bytes is None
    assert packet.upgrades == ("websocket",)
    assert packet.ping_timeout_seconds == 5.0
    assert encode_open_packet(packet, EIO3) == "0" + data


def test_open_packet_ignores_unknown_fields_and_tolerates_missing_max_payload() -> None:
    packet = decode_open_packet('{"sid":"a","pingInterval":1,"pingTimeout":2,"x":[1]}', EIO4)
    assert packet == OpenPacket("a", 0.001, 0.002, None, ())


@pytest.mark.parametrize(
    "data",
    [
        "",
        "null",
        "[]",
        '{"sid":""}',
        '{"sid":1,"pingInterval":1,"pingTimeout":1}',
        '{"sid":"a","pingInterval":0,"pingTimeout":1}',
        '{"sid":"a","pingInterval":"25000","pingTimeout":1}',
        '{"sid":"a","pingInterval":true,"pingTimeout":1}',
        '{"sid":"a","pingInterval":1,"pingTimeout":-5}',
        '{"sid":"a","pingInterval":1,"pingTimeout":NaN}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1e999}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":0}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":1.5}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1,"upgrades":"websocket"}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1,"upgrades":[1]}',
        '{"sid":"a","pingInterval":1,"pingTimeout":1} trailing',
    ],
)
def test_malformed_open_packet_is_remote_error(data: str) -> None:
    with pytest.raises(RemoteProtocolError, match="open packet"):
        decode_open_packet(data, EIO4)


def test_encode_open_packet_refuses_values_it_cannot_carry() -> None:
    with pytest.raises(LocalProtocolError):
        encode_open_packet(OpenPacket("a", 25.0, 20.0, None), EIO4)
    with pytest.raises(LocalProtocolError):
        encode_open_packet(OpenPacket("", 25.0, 20.0, 10), EIO4)
    with pytest.raises(LocalProtocolError):
        encode_open_packet(OpenPacket("a", float("nan"), 20.0, 10), EIO4)
    with pytest.raises(LocalProtocolError):
        encode_open_packet(OpenPacket("a", 0, 20.0, 10), EIO3)


# -- Socket.IO: golden frames from PROTOCOL.md ---------------------------------------------

GOLDEN_BOTH: list[tuple[str, SocketPacket]] = [
    ("0", SocketPacket(SocketPacketType.CONNECT)),
    ("1", SocketPacket(SocketPacketType.DISCONNECT)),
    (
        "27" + compact(["agent.connect", AGENT_CONNECT]),
        SocketPacket(SocketPacketType.EVENT, ["agent.connect", AGENT_CONNECT], ack_id=7),
    ),
    (
        "37" + compact([None, CONNECT_REPLY]),
        SocketPacket(SocketPacketType.ACK, [None, CONNECT_REPLY], ack_id=7),
    ),
    (
        "312" + compact([AUTH_FAILURE, None]),
        SocketPacket(SocketPacketType.ACK, [AUTH_FAILURE, None], ack_id=12),
    ),
    (
        "2" + compact(["chat.typing", TYPING]),
        SocketPacket(SocketPacketType.EVENT, ["chat.typing", TYPING]),
    ),
    (
        '2["agent.track_visitors",true]',
        SocketPacket(SocketPacketType.EVENT, ["agent.track_visitors", True]),
    ),
    ("33[null,true]", SocketPacket(SocketPacketType.ACK, [None, True], ack_id=3)),
    ("30[]", SocketPacket(SocketPacketType.ACK, [], ack_id=0)),
    (
        '2/admin,3["x"]',
        SocketPacket(SocketPacketType.EVENT, ["x"], namespace="/admin", ack_id=3),
    ),
    ("0/admin,", SocketPacket(SocketPacketType.CONNECT, namespace="/admin")),
    ("1/admin,", SocketPacket(SocketPacketType.DISCONNECT, namespace="/admin")),
    (
        '4{"message":"reason"}',
        SocketPacket(SocketPacketType.ERROR, {"message": "reason"}),
    ),
    (
        '2["chat.message",{"text":"Dobrý den, jak se máte? 👋"}]',
        SocketPacket(
            SocketPacketType.EVENT, ["chat.message", {"text": "Dobrý den, jak se máte? 👋"}]
        ),
    ),
]


@BOTH
@pytest.mark.parametrize(("frame", "packet"), GOLDEN_BOTH)
def test_golden_socket_frames_decode_and_encode(
    version: ProtocolVersion, frame: str, packet: SocketPacket
) -> None:
    assert decode_socket_packet(frame, version) == packet
    assert encode_socket_packet(packet) == frame


def test_event_with_ack_id_7_decodes_to_event_fields() -> None:
    packet = decode_socket_packet("27" + compact(["agent.connect", AGENT_CONNECT]), EIO3)
    assert packet.type is SocketPacketType.EVENT
    assert packet.ack_id == 7
    assert packet.data[0] == "agent.connect"
    assert packet.data[1]["key"] == AGENT_CONNECT["key"]


def test_sio4_error_is_a_bare_string() -> None:
    assert decode_socket_packet('4"reason"', EIO3) == SocketPacket(SocketPacketType.ERROR, "reason")
    assert encode_socket_packet(SocketPacket(SocketPacketType.ERROR, "reason")) == '4"reason"'


def test_sio4_error_payload_that_looks_like_an_ack_id_is_data() -> None:
    # ERROR carries no ack id, so "45" is an error whose payload is the number 5.
    assert decode_socket_packet("45", EIO3) == SocketPacket(SocketPacketType.ERROR, 5)
    assert decode_socket_packet("4", EIO3) == SocketPacket(SocketPacketType.ERROR, None)


def test_sio5_error_must_be_an_object_with_a_message() -> None:
    for frame in ['4"reason"', "4", '4{"msg":"x"}', '4{"message":5}', "4[]"]:
        with pytest.raises(RemoteProtocolError, match="ERROR payload"):
            decode_socket_packet(frame, EIO4)
    packet = decode_socket_packet('4{"message":"no","data":{"code":3}}', EIO4)
    assert packet.data == {"message": "no", "data": {"code": 3}}


def test_sio5_connect_carries_sid_or_auth_object() -> None:
    assert decode_socket_packet('0{"sid":"x"}', EIO4) == SocketPacket(
        SocketPacketType.CONNECT, {"sid": "x"}
    )
    assert decode_socket_packet('0/admin,{"token":"t"}', EIO4) == SocketPacket(
        SocketPacketType.CONNECT, {"token": "t"}, namespace="/admin"
    )


@pytest.mark.parametrize("frame", ['0{"sid":"x"}', '0"x"', "0[]", "0/admin,{}"])
def test_sio4_connect_payload_is_refused(frame: str) -> None:
    with pytest.raises(RemoteProtocolError, match="CONNECT payload"):
        decode_socket_packet(frame, EIO3)


@pytest.mark.parametrize("frame", ['0"x"', "0[]", "05", "0null"])
def test_sio5_connect_payload_must_be_an_object(frame: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_socket_packet(frame, EIO4)


@BOTH
@pytest.mark.parametrize(
    "frame",
    ['51-["file",{"_placeholder":true,"num":0}]', '61-7[{"_placeholder":true,"num":0}]', "5", "6"],
)
def test_binary_packets_are_refused_with_a_clear_error(
    version: ProtocolVersion, frame: str
) -> None:
    with pytest.raises(RemoteProtocolError, match="binary packets are not supported"):
        decode_socket_packet(frame, version)


def test_namespace_query_of_socketio2_clients_is_stripped() -> None:
    assert decode_socket_packet("0/admin?token=abc,", EIO3) == SocketPacket(
        SocketPacketType.CONNECT, namespace="/admin"
    )


def test_namespace_without_comma_fills_the_rest() -> None:
    assert decode_socket_packet("1/admin", EIO3).namespace == "/admin"


def test_surrounding_json_whitespace_is_tolerated() -> None:
    assert decode_socket_packet('2 ["x", 1] \n', EIO4).data == ["x", 1]


@BOTH
@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("", "empty"),
        ("7", "unknown"),
        ("x", "unknown"),
        ("2", "EVENT payload"),
        ("27", "EVENT payload"),
        ("2[]", "EVENT payload"),
        ("2[1]", "EVENT payload"),
        ("2[null]", "EVENT payload"),
        ('2{"a":1}', "EVENT payload"),
        ('2"x"', "EVENT payload"),
        ('2["x",NaN]', "not valid JSON"),
        ('2["x",Infinity]', "not valid JSON"),
        ('2["x",-Infinity]', "not valid JSON"),
        ('2["x"]garbage', "not valid JSON"),
        ('2["x"', "not valid JSON"),
        ("2['x']", "not valid JSON"),
        ('2["x\x01"]', "not valid JSON"),
        ("3[1]", "without an ack id"),
        ("35", "ACK payload"),
        ("35{}", "ACK payload"),
        ("2" + "9" * 17 + '["x"]', "too long"),
        ("2" + str(MAX_ACK_ID + 1) + '["x"]', "too large"),
        ("1x", "not valid JSON"),
        ('1"x"', "DISCONNECT"),
        ("2/admin", "EVENT payload"),
        ('21-["x"]', "not valid JSON"),
        ("2" + "[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('2["x",' + "1" * 5000 + "]", "not valid JSON"),
    ],
)
def test_malformed_socket_packets_are_remote_errors(
    version: ProtocolVersion, frame: str, message: str
) -> None:
    with pytest.raises(RemoteProtocolError, match=message) as info:
        decode_socket_packet(frame, version)
    assert len(str(info.value)) < 300  # the frame is cut to a safe length


def test_decode_socket_packet_refuses_non_text() -> None:
    with pytest.raises(RemoteProtocolError, match="must be text"):
        decode_socket_packet(b'2["x"]', EIO4)  # type: ignore[arg-type]


# -- Socket.IO: encoding -----------------------------------------------------------------


def test_encoding_is_compact_and_keeps_non_ascii() -> None:
    packet = SocketPacket(SocketPacketType.EVENT, ("chat.message", {"text": "čau 👋", "n": [1, 2]}))
    assert encode_socket_packet(packet) == '2["chat.message",{"text":"čau 👋","n":[1,2]}]'


@pytest.mark.parametrize(
    "packet",
    [
        SocketPacket(SocketPacketType.BINARY_EVENT, ["x"]),
        SocketPacket(SocketPacketType.BINARY_ACK, [], ack_id=1),
        SocketPacket(SocketPacketType.EVENT, []),
        SocketPacket(SocketPacketType.EVENT, [1]),
        SocketPacket(SocketPacketType.EVENT, "x"),
        SocketPacket(SocketPacketType.ACK, [None]),
        SocketPacket(SocketPacketType.ACK, {"a": 1}, ack_id=1),
        SocketPacket(SocketPacketType.CONNECT, ack_id=1),
        SocketPacket(SocketPacketType.CONNECT, ["x"]),
        SocketPacket(SocketPacketType.DISCONNECT, "x"),
        SocketPacket(SocketPacketType.ERROR, "x", ack_id=2),
        SocketPacket(SocketPacketType.EVENT, ["x"], ack_id=-1),
        SocketPacket(SocketPacketType.EVENT, ["x"], ack_id=True),
        SocketPacket(SocketPacketType.EVENT, ["x"], ack_id=MAX_ACK_ID + 1),
        SocketPacket(SocketPacketType.EVENT, ["x"], namespace="admin"),
        SocketPacket(SocketPacketType.EVENT, ["x"], namespace="/a,b"),
        SocketPacket(SocketPacketType.EVENT, ["x"], namespace="/a?b"),
        SocketPacket(SocketPacketType.EVENT, ["x", float("nan")]),
        SocketPacket(SocketPacketType.EVENT, ["x", float("inf")]),
        SocketPacket(SocketPacketType.EVENT, ["x", {1, 2}]),
        SocketPacket(SocketPacketType.EVENT, ["x", object()]),
        SocketPacket(9, ["x"]),  # type: ignore[arg-type]
    ],
)
def test_encoding_an_invalid_packet_is_local_error(packet: SocketPacket) -> None:
    with pytest.raises(LocalProtocolError):
        encode_socket_packet(packet)


def test_encoding_error_message_never_echoes_the_payload() -> None:
    secret = "d57ad424c173ea4541bef97b766c168a83042788"
    with pytest.raises(LocalProtocolError) as info:
        encode_socket_packet(SocketPacket(SocketPacketType.EVENT, [{"key": secret}]))
    assert secret not in str(info.value)
