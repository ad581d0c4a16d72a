"""The event value objects: frozen, slotted, and the hot-path builders stay equivalent."""

from __future__ import annotations

import dataclasses

import pytest

from agentbot.protocol import (
    Event,
    ProtocolVersion,
    SocketPacket,
    SocketPacketType,
    decode_socket_packet,
)
from agentbot.protocol import events as events_module
from agentbot.protocol.events import new_event


def test_new_event_builds_the_same_object_as_the_constructor() -> None:
    fast = new_event("chat.opened", ({"chat": {}},), 3, "/admin")
    slow = Event("chat.opened", ({"chat": {}},), 3, "/admin")
    assert fast == slow
    assert hash(new_event("x", (1,), None, "/")) == hash(Event("x", (1,), None))
    assert repr(fast) == repr(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "y"  # type: ignore[misc]


@pytest.mark.parametrize("cls", [Event, SocketPacket])
def test_fast_built_classes_keep_the_shape_the_builders_assume(cls: type) -> None:
    # new_event and decode_socket_packet set exactly these slots and nothing else: a new
    # field, a __post_init__ or a validator would make them wrong.
    expected = {
        Event: ["name", "args", "ack_id", "namespace"],
        SocketPacket: ["type", "data", "namespace", "ack_id"],
    }[cls]
    assert [f.name for f in dataclasses.fields(cls)] == expected
    assert not hasattr(cls, "__post_init__")
    assert cls.__slots__ == tuple(expected)


def test_decoded_socket_packet_equals_the_constructed_one() -> None:
    packet = decode_socket_packet('2/a,5["x",1]', ProtocolVersion.EIO4)
    assert packet == SocketPacket(SocketPacketType.EVENT, ["x", 1], "/a", 5)
    assert repr(packet) == repr(SocketPacket(SocketPacketType.EVENT, ["x", 1], "/a", 5))


def test_every_event_class_is_frozen_and_slotted() -> None:
    for name in events_module.__all__:
        cls = getattr(events_module, name)
        if not isinstance(cls, type):
            continue  # the ProtocolEvent alias
        params = cls.__dataclass_params__
        assert params.frozen, name
        assert "__slots__" in cls.__dict__, name
