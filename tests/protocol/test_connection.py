"""Client and server connections wired back to back, both protocol versions."""

from __future__ import annotations

import pytest

from agentbot.errors import LocalProtocolError, RemoteProtocolError
from agentbot.protocol import (
    Ack,
    ClientConnection,
    Closed,
    Connected,
    ConnectionState,
    ConnectRefused,
    ConnectRequested,
    Disconnected,
    ErrorPacket,
    Event,
    Opened,
    Ping,
    Pong,
    ProtocolVersion,
    ServerConnection,
)

from .wire import SID, Pair

EIO3 = ProtocolVersion.EIO3
EIO4 = ProtocolVersion.EIO4
BOTH = pytest.mark.parametrize("version", [EIO3, EIO4])
CONNECTED = ConnectionState.CONNECTED
CLOSED = ConnectionState.CLOSED
OPEN = ConnectionState.OPEN


# -- open handshake ------------------------------------------------------------------------


def test_eio3_handshake_server_connects_root_namespace_unasked() -> None:
    pair = Pair(EIO3)
    assert pair.client.state is ConnectionState.OPENING
    assert pair.server.state is ConnectionState.OPENING
    pair.server.open(0.0)
    assert pair.server.state is CONNECTED
    events = pair.to_client()
    assert pair.wire == [
        ("S", '0{"sid":"sid-1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'),
        ("S", "40"),
    ]
    assert events == [Opened(SID, 25.0, 20.0, None, ()), Connected("/", None)]
    assert pair.client.state is CONNECTED
    assert pair.client.sid == SID
    assert pair.client.data_to_send() == []  # SIO 4 on "/": the client asks for nothing


def test_eio4_handshake_client_asks_and_server_accepts() -> None:
    pair = Pair(EIO4, ping_interval_seconds=10, ping_timeout_seconds=5, max_payload_bytes=5000)
    pair.server.open(0.0)
    assert pair.server.state is OPEN
    assert pair.to_client() == [Opened(SID, 10.0, 5.0, 5000, ())]
    assert pair.client.state is OPEN
    assert pair.to_server() == [ConnectRequested("/", None)]
    pair.server.accept()
    assert pair.to_client() == [Connected("/", SID)]
    assert pair.wire == [
        (
            "S",
            '0{"sid":"sid-1","upgrades":[],"pingInterval":10000,"pingTimeout":5000,'
            '"maxPayload":5000}',
        ),
        ("C", "40"),
        ("S", '40{"sid":"sid-1"}'),
    ]
    assert pair.client.state is CONNECTED
    assert pair.server.state is CONNECTED


def test_sio5_namespace_connect_carries_auth_and_hides_it_from_repr() -> None:
    pair = Pair(EIO4, auth={"token": "s3cret-token"})
    pair.server.open(0.0)
    pair.to_client()
    requests = pair.to_server()
    assert pair.wire[-1] == ("C", '40{"token":"s3cret-token"}')
    assert requests == [ConnectRequested("/", {"token": "s3cret-token"})]
    assert "s3cret-token" not in repr(requests[0])


def test_sio5_refusal_reaches_client_as_connect_refused() -> None:
    pair = Pair(EIO4)
    pair.server.open(0.0)
    pair.to_client()
    pair.to_server()
    pair.server.refuse("not authorized", data={"code": 401})
    assert pair.to_client() == [ConnectRefused("/", "not authorized", {"code": 401})]
    assert pair.wire[-1] == ("S", '44{"message":"not authorized","data":{"code":401}}')
    assert pair.client.state is OPEN
    with pytest.raises(LocalProtocolError, match="not connected"):
        pair.client.send_event("agent.connect", {})
    with pytest.raises(LocalProtocolError, match="no pending request"):
        pair.server.accept()


def test_sio5_custom_namespace_is_prefixed_on_every_frame() -> None:
    pair = Pair(EIO4, namespace="/admin", auth={"k": 1})
    pair.handshake()
    pair.client.send_event("x", 1, ack=True)
    assert pair.to_server() == [Event("x", (1,), 0, "/admin")]
    pair.server.send_ack(0, "ok")
    pair.server.send_event("y")
    assert pair.to_client() == [Ack(0, ("ok",), "/admin"), Event("y", (), None, "/admin")]
    assert pair.wire == [
        ("C", '42/admin,0["x",1]'),
        ("S", '43/admin,0["ok"]'),
        ("S", '42/admin,["y"]'),
    ]


def test_sio4_refusal_of_a_namespace_is_a_bare_string() -> None:
    pair = Pair(EIO3, namespace="/admin")
    pair.server.open(0.0)
    # "40" for "/" is not ours: ignored; the client asks for "/admin" after the open packet.
    assert pair.to_client() == [Opened(SID, 25.0, 20.0, None, ())]
    assert pair.to_server() == [ConnectRequested("/admin", None)]
    assert pair.wire[-1] == ("C", "40/admin,")
    pair.server.refuse("nope", namespace="/admin")
    assert pair.to_client() == [ConnectRefused("/admin", "nope", None)]
    assert pair.wire[-1] == ("S", '44/admin,"nope"')


def test_sio4_refusal_with_data_is_readable_by_the_client() -> None:
    client = ClientConnection(EIO3)
    client.receive_text('0{"sid":"a","pingInterval":25000,"pingTimeout":5000}', 0.0)
    assert client.receive_text('44{"message":"bad key","data":[1]}', 0.0) == [
        ConnectRefused("/", "bad key", [1])
    ]
    client = ClientConnection(EIO3)
    client.receive_text('0{"sid":"a","pingInterval":25000,"pingTimeout":5000}', 0.0)
    assert client.receive_text("44[1]", 0.0) == [ConnectRefused("/", "connection refused", [1])]


def test_sio4_client_auth_is_refused_at_construction() -> None:
    with pytest.raises(LocalProtocolError, match=r"Socket\.IO 5"):
        ClientConnection(EIO3, auth={"token": "x"})


def test_auth_must_be_json_and_namespace_well_formed() -> None:
    with pytest.raises(LocalProtocolError):
        ClientConnection(EIO4, auth={"x": {1, 2}})
    with pytest.raises(LocalProtocolError):
        ClientConnection(EIO4, auth=["x"])  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        ClientConnection(EIO4, namespace="admin")
    with pytest.raises(LocalProtocolError):
        ClientConnection("4")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sid": ""},
        {"sid": "a", "ping_interval_seconds": 0},
        {"sid": "a", "ping_timeout_seconds": float("inf")},
        {"sid": "a", "ping_timeout_seconds": True},
        {"sid": "a", "max_payload_bytes": 0},
        {"sid": "a", "max_payload_bytes": 1.5},
    ],
)
def test_server_options_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        ServerConnection(EIO4, **kwargs)  # type: ignore[arg-type]


def test_server_open_twice_and_receive_before_open_are_local_errors() -> None:
    server = ServerConnection(EIO4, sid="a")
    with pytest.raises(LocalProtocolError, match="open"):
        server.receive_text("40", 0.0)
    server = ServerConnection(EIO4, sid="a")
    server.open(0.0)
    with pytest.raises(LocalProtocolError):
        server.open(0.0)


@BOTH
def test_client_requires_open_packet_first(version: ProtocolVersion) -> None:
    for frame in ['42["x"]', "40", "2", "3", "1"]:
        client = ClientConnection(version)
        with pytest.raises(RemoteProtocolError):
            client.receive_text(frame, 0.0)
        assert client.state is CLOSED
    client = ClientConnection(version)
    assert client.receive_text("6", 0.0) == []  # noop is harmless
    assert client.state is ConnectionState.OPENING


@BOTH
def test_second_open_packet_is_remote_error(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(RemoteProtocolError, match="second"):
        pair.client.receive_text('0{"sid":"b","pingInterval":1,"pingTimeout":1}', 0.0)
    server = ServerConnection(version, sid="a")
    server.open(0.0)
    with pytest.raises(RemoteProtocolError, match="open packet"):
        server.receive_text('0{"sid":"b"}', 0.0)


def test_event_before_namespace_connected_is_remote_error() -> None:
    pair = Pair(EIO4)
    pair.server.open(0.0)
    pair.to_client()
    with pytest.raises(RemoteProtocolError, match="before the namespace"):
        pair.client.receive_text('42["x"]', 0.0)
    assert pair.client.state is CLOSED
    with pytest.raises(RemoteProtocolError, match="before the namespace"):
        pair.server.receive_text('42["x"]', 0.0)
    assert pair.server.state is CLOSED


def test_sio5_connect_twice_is_remote_error_sio4_tolerates_it() -> None:
    pair = Pair(EIO4)
    pair.handshake()
    with pytest.raises(RemoteProtocolError, match="twice"):
        pair.client.receive_text('40{"sid":"x"}', 0.0)
    with pytest.raises(RemoteProtocolError, match="twice"):
        pair.server.receive_text("40", 0.0)
    pair = Pair(EIO3)
    pair.handshake()
    assert pair.client.receive_text("40", 0.0) == []
    assert pair.server.receive_text("40", 0.0) == []
    assert pair.client.state is CONNECTED


@BOTH
def test_packets_for_other_namespaces_are_ignored(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    for frame in ['42/other,["x"]', '43/other,5["x"]', "41/other,", '44/other,{"message":"m"}']:
        assert pair.client.receive_text(frame, 0.0) == []
    for frame in ['42/other,["x"]', '43/other,5["x"]', "41/other,", '44/other,{"message":"m"}']:
        assert pair.server.receive_text(frame, 0.0) == []
    assert pair.client.state is CONNECTED
    assert pair.server.state is CONNECTED


def test_server_can_refuse_a_second_namespace_while_connected() -> None:
    pair = Pair(EIO4)
    pair.handshake()
    assert pair.server.receive_text('40/admin,{"t":1}', 0.0) == [
        ConnectRequested("/admin", {"t": 1})
    ]
    with pytest.raises(LocalProtocolError):
        pair.server.accept("/admin")  # one namespace per connection
    pair.server.refuse("one namespace only", namespace="/admin")
    assert pair.server.data_to_send() == ['44/admin,{"message":"one namespace only"}']
    with pytest.raises(LocalProtocolError):
        pair.server.refuse("again", namespace="/admin")


def test_client_that_gives_up_before_accept_is_reported() -> None:
    server = ServerConnection(EIO4, sid="a")
    server.open(0.0)
    assert server.receive_text("40", 0.0) == [ConnectRequested("/", None)]
    assert server.receive_text("41", 0.0) == [Disconnected("/", "io client disconnect")]
    with pytest.raises(LocalProtocolError):
        server.accept()


# -- events and acks -----------------------------------------------------------------------


@BOTH
def test_events_without_ack_both_directions(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    typing = {"chatId": "c1", "visitorId": "v1", "typing": {"is": True}}
    assert pair.client.send_event("chat.typing", typing) is None
    assert pair.client.send_event("agent.track_visitors", True) is None
    assert pair.to_server() == [
        Event("chat.typing", (typing,), None),
        Event("agent.track_visitors", (True,), None),
    ]
    pair.server.send_event("chat.message_received", {"chatId": "c1"}, "extra")
    assert pair.to_client() == [Event("chat.message_received", ({"chatId": "c1"}, "extra"), None)]
    assert pair.wire == [
        ("C", '42["chat.typing",{"chatId":"c1","visitorId":"v1","typing":{"is":true}}]'),
        ("C", '42["agent.track_visitors",true]'),
        ("S", '42["chat.message_received",{"chatId":"c1"},"extra"]'),
    ]
    assert pair.client.pending_acks == frozenset()


@BOTH
def test_acks_are_matched_by_id_in_any_order(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    first = pair.client.send_event("agent.connect", {"id": "1"}, ack=True)
    second = pair.client.send_event("visitor.get", {"id": "v"}, ack=True)
    assert (first, second) == (0, 1)
    assert pair.client.pending_acks == frozenset({0, 1})
    received = pair.to_server()
    assert [e.ack_id for e in received if isinstance(e, Event)] == [0, 1]
    assert pair.wire == [
        ("C", '420["agent.connect",{"id":"1"}]'),
        ("C", '421["visitor.get",{"id":"v"}]'),
    ]
    pair.server.send_ack(1, None, {"id": "v"})
    pair.server.send_ack(0, {"message": "Auth token is invalid", "type": "auth_failure"}, None)
    assert pair.to_client() == [
        Ack(1, (None, {"id": "v"})),
        Ack(0, ({"message": "Auth token is invalid", "type": "auth_failure"}, None)),
    ]
    assert pair.wire[-2:] == [
        ("S", '431[null,{"id":"v"}]'),
        ("S", '430[{"message":"Auth token is invalid","type":"auth_failure"},null]'),
    ]
    assert pair.client.pending_acks == frozenset()
    assert pair.client.send_event("x", ack=True) == 2  # ids keep counting up


@BOTH
def test_server_can_ask_the_client_for_an_ack(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    assert pair.server.send_event("ping.me", ack=True) == 0
    assert pair.to_client() == [Event("ping.me", (), 0)]
    pair.client.send_ack(0, "pong")
    assert pair.to_server() == [Ack(0, ("pong",))]


@BOTH
def test_cancelled_ack_is_dropped_when_it_arrives_late(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    ack_id = pair.client.send_event("chat.message", {"text": "hi"}, ack=True)
    assert ack_id is not None
    pair.to_server()
    pair.client.cancel_ack(ack_id)
    assert pair.client.pending_acks == frozenset()
    pair.client.cancel_ack(ack_id)  # forgetting twice is harmless
    pair.server.send_ack(ack_id, None, {"id": "m1"})
    assert pair.to_client() == []
    assert pair.client.state is CONNECTED


@BOTH
def test_cancel_ack_of_an_id_never_issued_is_local_error(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(LocalProtocolError, match="never issued"):
        pair.client.cancel_ack(0)
    assert pair.client.state is CONNECTED


@BOTH
def test_ack_for_an_id_never_issued_is_remote_error(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    pair.client.send_event("x", ack=True)
    with pytest.raises(RemoteProtocolError, match="never issued"):
        pair.client.receive_text('437[null,{"ok":true}]', 0.0)
    assert pair.client.state is CLOSED
    with pytest.raises(LocalProtocolError, match="closed"):
        pair.client.receive_text('430[null,{"ok":true}]', 0.0)
    with pytest.raises(LocalProtocolError):
        pair.client.send_event("x")


@BOTH
def test_send_ack_only_for_ids_the_peer_asked_for(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(LocalProtocolError, match="no event awaits"):
        pair.server.send_ack(0, None)
    pair.client.send_event("x", ack=True)
    pair.client.send_event("y")
    pair.to_server()
    pair.server.send_ack(0, None, True)
    with pytest.raises(LocalProtocolError, match="no event awaits"):
        pair.server.send_ack(0, None, True)  # answered already
    assert pair.server.state is CONNECTED


@BOTH
def test_invalid_send_event_is_local_error_and_changes_nothing(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    for name, args in [
        ("", ()),
        (5, ()),
        ("x", ({1},)),
        ("x", (float("nan"),)),
        ("x", (object(),)),
    ]:
        with pytest.raises(LocalProtocolError):
            pair.client.send_event(name, *args, ack=True)  # type: ignore[arg-type]
    assert pair.client.data_to_send() == []
    assert pair.client.pending_acks == frozenset()
    assert pair.client.state is CONNECTED
    assert pair.client.send_event("x", ack=True) == 0  # no id was burnt


@BOTH
def test_binary_packet_from_peer_is_refused(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(RemoteProtocolError, match="binary packets are not supported"):
        pair.client.receive_text('451-["file",{"_placeholder":true,"num":0}]', 0.0)
    assert pair.client.state is CLOSED


@BOTH
def test_error_packet_after_connect_is_reported(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    assert pair.client.receive_text('44{"message":"boom"}', 0.0) == [
        ErrorPacket("/", {"message": "boom"})
    ]
    assert pair.server.receive_text('44{"message":"boom"}', 0.0) == [
        ErrorPacket("/", {"message": "boom"})
    ]


# -- disconnect and close ----------------------------------------------------------------


@BOTH
def test_client_disconnect_reaches_server(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    pair.client.disconnect()
    assert pair.client.state is CLOSED
    assert pair.to_server() == [
        Disconnected("/", "io client disconnect"),
        Closed("transport close", by_peer=True),
    ]
    assert pair.wire == [("C", "41"), ("C", "1")]
    assert pair.server.state is CLOSED


@BOTH
def test_server_disconnect_reaches_client(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    pair.server.disconnect()
    assert pair.to_client() == [
        Disconnected("/", "io server disconnect"),
        Closed("transport close", by_peer=True),
    ]
    assert pair.wire == [("S", "41"), ("S", "1")]
    assert pair.client.state is CLOSED


@BOTH
def test_namespace_disconnect_alone_leaves_session_open(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    assert pair.client.receive_text("41", 0.0) == [Disconnected("/", "io server disconnect")]
    assert pair.client.state is OPEN
    with pytest.raises(LocalProtocolError):
        pair.client.send_event("x")
    pair.client.close()
    assert pair.client.data_to_send() == ["1"]  # no "41": the namespace is gone already


@BOTH
@pytest.mark.parametrize("closer", ["client", "server"])
def test_close_each_direction(version: ProtocolVersion, closer: str) -> None:
    pair = Pair(version)
    pair.handshake()
    if closer == "client":
        pair.client.close()
        assert pair.to_server() == [Closed("transport close", by_peer=True)]
    else:
        pair.server.close()
        assert pair.to_client() == [Closed("transport close", by_peer=True)]
    assert pair.wire == [("C" if closer == "client" else "S", "1")]
    for conn in (pair.client, pair.server):
        assert conn.state is CLOSED
        assert conn.next_deadline() is None
        assert conn.tick(1e9) == []
        assert conn.data_to_send() == []
        with pytest.raises(LocalProtocolError):
            conn.send_event("x")
        with pytest.raises(LocalProtocolError):
            conn.close()
        with pytest.raises(LocalProtocolError):
            conn.disconnect()
        with pytest.raises(LocalProtocolError):
            conn.receive_text("2", 0.0)


def test_disconnect_before_connect_sends_only_close() -> None:
    client = ClientConnection(EIO4)
    client.receive_text('0{"sid":"a","pingInterval":25000,"pingTimeout":5000}', 0.0)
    client.data_to_send()
    client.disconnect()
    assert client.data_to_send() == ["1"]


def test_pending_acks_survive_close_for_the_caller_to_fail() -> None:
    pair = Pair(EIO4)
    pair.handshake()
    pair.client.send_event("x", ack=True)
    pair.client.receive_text("1", 0.0)
    assert pair.client.pending_acks == frozenset({0})
    pair.client.cancel_ack(0)  # harmless once closed
    assert pair.client.pending_acks == frozenset()


# -- pings, noop, upgrade ------------------------------------------------------------------


@BOTH
def test_any_ping_is_answered_with_its_data(version: ProtocolVersion) -> None:
    pair = Pair(version)
    pair.handshake()
    assert pair.client.receive_text("2", 1.0) == [Ping("")]
    assert pair.client.receive_text("2probe", 1.0) == [Ping("probe")]
    assert pair.client.data_to_send() == ["3", "3probe"]
    assert pair.server.receive_text("2probe", 1.0) == [Ping("probe")]
    assert pair.server.data_to_send() == ["3probe"]
    assert pair.client.receive_text("3probe", 1.0) == [Pong("probe")]
    assert pair.client.receive_text("6", 1.0) == []
    assert pair.client.receive_text("5", 1.0) == []


# -- max payload ---------------------------------------------------------------------------


def test_eio4_client_refuses_to_send_over_the_servers_max_payload() -> None:
    pair = Pair(EIO4, max_payload_bytes=100)
    pair.handshake()
    frame_overhead = len('42["x",""]')
    assert pair.client.send_event("x", "a" * (100 - frame_overhead)) is None
    assert pair.to_server() == [Event("x", ("a" * (100 - frame_overhead),), None)]
    with pytest.raises(LocalProtocolError, match="maximum payload"):
        pair.client.send_event("x", "a" * (101 - frame_overhead), ack=True)
    with pytest.raises(LocalProtocolError, match="maximum payload"):
        pair.client.send_event("x", "€" * 40)  # 40 chars but 120 bytes in UTF-8
    assert pair.client.data_to_send() == []
    assert pair.client.state is CONNECTED
    assert pair.client.pending_acks == frozenset()


@BOTH
def test_server_refuses_frames_over_max_payload(version: ProtocolVersion) -> None:
    pair = Pair(version, max_payload_bytes=100)
    pair.handshake()
    pair.server.receive_text('42["x","' + "a" * 90 + '"]', 0.0)  # exactly 100 bytes
    with pytest.raises(RemoteProtocolError, match="maximum payload of 100 bytes") as info:
        pair.server.receive_text('42["x","' + "€" * 40 + '"]', 0.0)  # 50 chars, 130 bytes
    assert len(str(info.value)) < 300
    assert pair.server.state is CLOSED
    pair = Pair(version, max_payload_bytes=100)
    pair.handshake()
    with pytest.raises(RemoteProtocolError, match="maximum payload"):
        pair.server.receive_text("2" + "x" * 200, 0.0)


def test_eio3_client_has_no_send_limit() -> None:
    pair = Pair(EIO3, max_payload_bytes=100)
    pair.handshake()
    pair.client.send_event("x", "a" * 1000)
    assert len(pair.client.data_to_send()[0]) > 1000


@BOTH
def test_binary_websocket_frame_into_a_connection_is_remote_error(
    version: ProtocolVersion,
) -> None:
    pair = Pair(version)
    pair.handshake()
    with pytest.raises(RemoteProtocolError, match="binary frames are not supported"):
        pair.client.receive_text(b'42["x"]', 0.0)  # type: ignore[arg-type]
    assert pair.client.state is CLOSED


def test_protocol_error_message_cuts_a_huge_frame() -> None:
    pair = Pair(EIO4)
    pair.handshake()
    with pytest.raises(RemoteProtocolError) as info:
        pair.client.receive_text("42{" + "x" * 100_000, 0.0)
    assert len(str(info.value)) < 300
    assert info.value.frame is not None
