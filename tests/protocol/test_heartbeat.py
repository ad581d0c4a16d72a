"""Heartbeats on an explicit clock: both versions, both roles (PROTOCOL.md §1).

EIO 3: the client pings every interval and wants a pong within the timeout; the server
declares the client dead after interval + timeout without a ping. EIO 4 swaps the roles.
"""

from __future__ import annotations

import pytest

from agentbot.protocol import (
    ClientConnection,
    Closed,
    ConnectionState,
    HeartbeatAction,
    Ping,
    PingListener,
    PingSender,
    Pong,
    ProtocolVersion,
    ServerConnection,
    heartbeat_for,
)

from .wire import Pair

EIO3 = ProtocolVersion.EIO3
EIO4 = ProtocolVersion.EIO4
T0 = 1000.0  # the clock does not start at zero: deadlines are relative to the open
TIMEOUT = Closed("ping timeout", by_peer=False)


def open_client(version: ProtocolVersion, now: float = T0) -> ClientConnection:
    """A client that received a 25 s / 20 s open packet at ``now``."""
    client = ClientConnection(version)
    client.receive_text('0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}', now)
    client.data_to_send()
    return client


def open_server(version: ProtocolVersion, now: float = T0) -> ServerConnection:
    """A server that sent its 25 s / 20 s open packet at ``now``."""
    server = ServerConnection(version, sid="a", ping_interval_seconds=25, ping_timeout_seconds=20)
    server.open(now)
    server.data_to_send()
    return server


# -- the rule table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "client_side", "rule"),
    [
        (EIO3, True, PingSender),
        (EIO3, False, PingListener),
        (EIO4, True, PingListener),
        (EIO4, False, PingSender),
    ],
)
def test_heartbeat_roles_follow_the_version(
    version: ProtocolVersion, client_side: bool, rule: type
) -> None:
    heartbeat = heartbeat_for(
        version, client_side=client_side, interval_seconds=25, timeout_seconds=20
    )
    assert type(heartbeat) is rule


def test_heartbeats_do_nothing_before_start() -> None:
    for heartbeat in (PingSender(25, 20), PingListener(25, 20)):
        assert heartbeat.next_deadline() is None
        assert heartbeat.tick(1e12) is HeartbeatAction.NONE
        heartbeat.on_ping(1.0)
        heartbeat.on_pong(1.0)
        assert heartbeat.next_deadline() is None


def test_ping_sender_schedules_from_the_pong() -> None:
    heartbeat = PingSender(25, 20)
    heartbeat.start(T0)
    assert heartbeat.next_deadline() == T0 + 25
    assert heartbeat.tick(T0 + 24.999) is HeartbeatAction.NONE
    assert heartbeat.tick(T0 + 25) is HeartbeatAction.SEND_PING
    assert heartbeat.next_deadline() == T0 + 45
    assert heartbeat.tick(T0 + 30) is HeartbeatAction.NONE  # no second ping in flight
    heartbeat.on_pong(T0 + 31)
    assert heartbeat.next_deadline() == T0 + 56
    heartbeat.on_pong(T0 + 40)  # an unexpected pong changes nothing
    assert heartbeat.next_deadline() == T0 + 56
    heartbeat.stop()
    assert heartbeat.next_deadline() is None
    assert heartbeat.tick(T0 + 1000) is HeartbeatAction.NONE


# -- EIO 3 client: pings on schedule, pong due within the timeout ------------------------------


def test_eio3_client_pings_every_interval_after_the_pong() -> None:
    client = open_client(EIO3)
    assert client.next_deadline() == T0 + 25
    assert client.tick(T0 + 24.9) == []
    assert client.data_to_send() == []
    assert client.tick(T0 + 25) == []
    assert client.data_to_send() == ["2"]
    assert client.next_deadline() == T0 + 45  # the pong is due within pingTimeout
    assert client.receive_text("3", T0 + 26) == [Pong("")]
    assert client.next_deadline() == T0 + 51
    assert client.tick(T0 + 51) == []
    assert client.data_to_send() == ["2"]


def test_eio3_client_times_out_exactly_ping_timeout_after_its_ping() -> None:
    client = open_client(EIO3)
    client.tick(T0 + 25)
    assert client.data_to_send() == ["2"]
    assert client.tick(T0 + 44.999) == []
    assert client.state is ConnectionState.OPEN
    assert client.tick(T0 + 45) == [TIMEOUT]
    assert client.state is ConnectionState.CLOSED
    assert client.next_deadline() is None
    assert client.data_to_send() == []  # a dead peer gets no close packet


def test_eio3_client_answers_server_pings_without_changing_its_schedule() -> None:
    client = open_client(EIO3)
    assert client.receive_text("2probe", T0 + 10) == [Ping("probe")]
    assert client.data_to_send() == ["3probe"]
    assert client.next_deadline() == T0 + 25


# -- EIO 3 server: listens for the client's pings --------------------------------------------


def test_eio3_server_answers_pings_and_times_out_at_interval_plus_timeout() -> None:
    server = open_server(EIO3)
    assert server.next_deadline() == T0 + 45
    assert server.receive_text("2", T0 + 25) == [Ping("")]
    assert server.data_to_send() == ["3"]
    assert server.next_deadline() == T0 + 70
    assert server.tick(T0 + 69.999) == []
    assert server.data_to_send() == []  # the EIO 3 server never pings
    assert server.tick(T0 + 70) == [TIMEOUT]
    assert server.state is ConnectionState.CLOSED


# -- EIO 4 server: pings, pong due within the timeout ---------------------------------------


def test_eio4_server_pings_and_times_out_without_pong() -> None:
    server = open_server(EIO4)
    server.receive_text("40", T0)
    server.accept()
    server.data_to_send()
    assert server.next_deadline() == T0 + 25
    assert server.tick(T0 + 25) == []
    assert server.data_to_send() == ["2"]
    assert server.next_deadline() == T0 + 45
    assert server.receive_text("3", T0 + 30) == [Pong("")]
    assert server.next_deadline() == T0 + 55
    server.tick(T0 + 55)
    assert server.data_to_send() == ["2"]
    assert server.tick(T0 + 74.999) == []
    assert server.tick(T0 + 75) == [TIMEOUT]
    assert server.state is ConnectionState.CLOSED


# -- EIO 4 client: answers pings, dead after interval + timeout without one -------------------


def test_eio4_client_times_out_exactly_at_interval_plus_timeout() -> None:
    client = open_client(EIO4)
    assert client.next_deadline() == T0 + 45
    assert client.tick(T0 + 44.999) == []
    assert client.data_to_send() == []  # the EIO 4 client never pings
    assert client.tick(T0 + 45) == [TIMEOUT]
    assert client.state is ConnectionState.CLOSED
    assert client.next_deadline() is None


def test_eio4_client_answers_pings_and_each_ping_moves_the_deadline() -> None:
    client = open_client(EIO4)
    assert client.receive_text("2", T0 + 25) == [Ping("")]
    assert client.data_to_send() == ["3"]
    assert client.next_deadline() == T0 + 70
    assert client.tick(T0 + 69.9) == []
    assert client.tick(T0 + 70) == [TIMEOUT]


# -- both sides on one virtual clock -------------------------------------------------------


@pytest.mark.parametrize("version", [EIO3, EIO4])
def test_heartbeat_keeps_a_healthy_pair_alive_then_detects_a_silent_server(
    version: ProtocolVersion,
) -> None:
    pair = Pair(version, ping_interval_seconds=25, ping_timeout_seconds=20)
    pair.handshake(now=T0)
    pings: list[float] = []
    for _ in range(200):  # bounded: each step advances the clock to the next deadline
        deadlines = [pair.client.next_deadline(), pair.server.next_deadline()]
        now = min(d for d in deadlines if d is not None)
        if now > T0 + 1000:
            break
        assert pair.client.tick(now) == []
        assert pair.server.tick(now) == []
        pair.to_server(now)
        pair.to_client(now)
        pair.to_server(now)
        pings.extend(now for _side, frame in pair.wire if frame == "2")
        pair.wire.clear()
    assert pair.client.state is ConnectionState.CONNECTED
    assert pair.server.state is ConnectionState.CONNECTED
    # Pings every interval, the first one an interval after the open (pongs are instant).
    assert pings == [T0 + 25 * k for k in range(1, 41)]
    # Now the server falls silent: the client gives up on its own schedule.
    if version is EIO4:
        assert pair.client.next_deadline() == pings[-1] + 45
        assert pair.client.tick(pings[-1] + 44.999) == []
        assert pair.client.tick(pings[-1] + 45) == [TIMEOUT]
    else:
        assert pair.client.next_deadline() == pings[-1] + 25
        assert pair.client.tick(pings[-1] + 25) == []
        assert pair.client.data_to_send() == ["2"]  # the ping nobody answers
        assert pair.client.tick(pings[-1] + 44.999) == []
        assert pair.client.tick(pings[-1] + 45) == [TIMEOUT]
    assert pair.client.state is ConnectionState.CLOSED
