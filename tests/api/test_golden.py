"""Golden tests: every request, reply and error example of the seed and PROTOCOL.md §2-§4.

Each example travels as a full wire frame (``42[...]``, ``421[...]``, ``431[...]``) through
the real protocol codecs, is decoded to the expected typed object, and encodes back to the
very same frame text (JSON.stringify's compact form, keys in the documented order).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentbot.api import (
    Account,
    AccountAgent,
    Agent,
    AgentConnect,
    AgentConnectReply,
    AgentLogout,
    ApiError,
    AuthFailure,
    ChatClose,
    ChatMessage,
    ChatMessageReceived,
    ChatRate,
    ChatRead,
    ChatTyping,
    Content,
    Group,
    Message,
    NotAuthenticated,
    NotFound,
    Request,
    TrackVisitors,
    VisitorChatMessage,
    VisitorChatTyping,
    VisitorConnect,
    VisitorGet,
    VisitorUpdate,
    VisitorValues,
    decode_events,
    decode_reply,
    decode_request,
    encode_error,
    encode_event,
    encode_reply,
    encode_request,
)
from agentbot.protocol import (
    EnginePacketType,
    ProtocolVersion,
    SocketPacket,
    SocketPacketType,
    decode_engine_packet,
    decode_socket_packet,
    encode_engine_packet,
    encode_socket_packet,
)

from . import seed
from .examples import CONTACT_MESSAGE, EVENTS

ACK_ID = 1


def compact(value: Any) -> str:
    """JSON as JSON.stringify writes it (the protocol layer's encoding)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def frame(packet: SocketPacket) -> str:
    return encode_engine_packet(EnginePacketType.MESSAGE, encode_socket_packet(packet))


def unframe(text: str) -> SocketPacket:
    engine_type, data = decode_engine_packet(text)
    assert engine_type is EnginePacketType.MESSAGE
    return decode_socket_packet(data, ProtocolVersion.EIO3)


def request_frame(request: Request) -> str:
    name, args = encode_request(request)
    ack_id = ACK_ID if request.expects_ack else None
    return frame(SocketPacket(SocketPacketType.EVENT, [name, *args], ack_id=ack_id))


def decode_request_frame(text: str, *, side: str = "agent") -> Request:
    packet = unframe(text)
    assert packet.type is SocketPacketType.EVENT
    name, *args = packet.data
    return decode_request(name, args, side=side)  # type: ignore[arg-type]


def reply_frame(args: list[Any]) -> str:
    return frame(SocketPacket(SocketPacketType.ACK, args, ack_id=ACK_ID))


def decode_reply_frame(request: Request, text: str) -> Any:
    packet = unframe(text)
    assert packet.type is SocketPacketType.ACK
    assert packet.ack_id == ACK_ID
    return decode_reply(request, packet.data)


# --- the seed's requests -------------------------------------------------------------------

SEED_CONNECT = AgentConnect(
    version=5,
    id="345111",
    key="d57ad424c173ea4541bef97b766c168a83042788",
    auth_token="6d267d6cd580a4c01afbb2f0b565ab7d",
    authtoken="33aab1d14b37a28237d61ec166d8ebb1",
    device_token=None,
    device_type=None,
    device_platform=None,
    track_visitors=False,
    bundle_version="iOS (2.1.0)",
)

SEED_REQUESTS: list[tuple[str, str, Request]] = [
    ("agent.connect", seed.AGENT_CONNECT_REQUEST, SEED_CONNECT),
    (
        "agent.logout",
        seed.AGENT_LOGOUT_REQUEST,
        AgentLogout(device_platform="ios", device_token="token"),
    ),
    ("agent.track_visitors", seed.AGENT_TRACK_VISITORS_REQUEST, TrackVisitors(enabled=True)),
    (
        "chat.typing",
        seed.CHAT_TYPING_REQUEST,
        ChatTyping(chat_id="co2wgLaNKxtOe", visitor_id="viJqfKK4RIOh", is_typing=True),
    ),
]


@pytest.mark.parametrize(("name", "example", "expected"), SEED_REQUESTS, ids=lambda v: "")
def test_seed_request_example_is_a_golden_frame(name: str, example: str, expected: Request) -> None:
    array = seed.load(example)
    ack_id = ACK_ID if expected.expects_ack else None
    wire = frame(SocketPacket(SocketPacketType.EVENT, array, ack_id=ack_id))
    prefix = f"42{ACK_ID}" if expected.expects_ack else "42"
    assert wire == prefix + compact(array)

    assert expected.name == name
    assert decode_request_frame(wire) == expected
    assert request_frame(expected) == wire


def test_track_visitors_goes_out_as_a_bare_boolean_without_ack() -> None:
    assert request_frame(TrackVisitors(enabled=False)) == '42["agent.track_visitors",false]'
    assert not TrackVisitors.expects_ack


def test_agent_connect_leaves_unset_tokens_off_but_sends_device_nulls_like_the_seed() -> None:
    request = AgentConnect(id="345111", key="k", auth_token="t")
    assert encode_request(request) == (
        "agent.connect",
        [
            {
                "version": 5,
                "id": "345111",
                "key": "k",
                "authToken": "t",
                "deviceToken": None,
                "deviceType": None,
                "devicePlatform": None,
            }
        ],
    )


# --- the seed's replies ----------------------------------------------------------------------

SEED_CONNECT_REPLY = AgentConnectReply(
    server_version=3,
    agent=Agent(
        id="345111",
        status="online",
        groups=(),
        email="dusan@smartsupp.com",
        nickname="morlok",
        fullname="Dusan Kmet",
        description="I am awesome!",
        avatar="https://files.smartsuppcdn.com/files/agents/63jdada.png",
        connected_at="2019-10-04T14:03:21.877Z",
        disabled=False,
    ),
    account=Account(
        agents=(
            AccountAgent(
                id="345111",
                status="online",
                nickname="morlok",
                fullname="Dusan Kmet",
                description="I am awesome!",
                avatar="https://files.smartsuppcdn.com/files/agents/63jdada.png",
                groups=(),
            ),
            AccountAgent(
                id="325144",
                status="offline",
                nickname="sandy",
                fullname="Vladimir Sandera",
                description="I have vision!",
                avatar="https://files.smartsuppcdn.com/files/agents/jkd09wks.png",
                groups=(),
            ),
        ),
        groups=(Group(key="g67soJw02", name="Support"), Group(key="p0d4uHoa", name="Invoices")),
    ),
)


def test_seed_agent_connect_success_reply_is_a_golden_frame() -> None:
    args = seed.load(seed.AGENT_CONNECT_SUCCESS_REPLY)
    wire = reply_frame(args)
    assert wire == f"43{ACK_ID}" + compact(args)

    assert decode_reply_frame(SEED_CONNECT, wire) == SEED_CONNECT_REPLY
    assert reply_frame(encode_reply(SEED_CONNECT_REPLY)) == wire


def test_seed_agent_logout_success_reply_is_true() -> None:
    wire = reply_frame(seed.load(seed.AGENT_LOGOUT_SUCCESS_REPLY))
    assert wire == f"43{ACK_ID}[null,true]"
    assert decode_reply_frame(AgentLogout(), wire) is True
    assert reply_frame(encode_reply(True)) == wire


@pytest.mark.parametrize(
    ("example", "request_", "error_class", "fields"),
    [
        (
            seed.AGENT_CONNECT_ERROR_REPLY,
            SEED_CONNECT,
            AuthFailure,
            ("Auth token is invalid", "agent.connect", "auth_failure", None),
        ),
        (
            seed.AGENT_LOGOUT_ERROR_REPLY,
            AgentLogout(),
            NotFound,
            ("Agent not found", "agent.logout", "not_found", None),
        ),
    ],
    ids=["auth_failure", "not_found"],
)
def test_seed_error_reply_raises_its_typed_error_and_encodes_back(
    example: str,
    request_: Request,
    error_class: type[ApiError],
    fields: tuple[str, str, str, int | None],
) -> None:
    args = seed.load(example)
    wire = reply_frame(args)
    assert wire == f"43{ACK_ID}" + compact(args)

    with pytest.raises(error_class) as caught:
        decode_reply_frame(request_, wire)
    error = caught.value
    assert type(error) is error_class
    assert (error.message, error.event, error.type, error.code) == fields
    assert error.raw == args[0]
    assert reply_frame(encode_error(error)) == wire
    # The sandbox builds errors without ``type``: the class supplies it.
    assert encode_error(error_class(fields[0], event=fields[1])) == args


def test_auth_error_403_before_connect_raises_not_authenticated() -> None:
    # PROTOCOL.md §2: "auth_error (code 403, a request before the connection is authenticated)".
    args = [
        {"message": "Not authenticated", "event": "visitor.get", "type": "auth_error", "code": 403},
        None,
    ]
    wire = reply_frame(args)
    with pytest.raises(NotAuthenticated) as caught:
        decode_reply_frame(VisitorGet(id="v1"), wire)
    assert caught.value.code == 403
    assert reply_frame(encode_error(caught.value)) == wire
    assert encode_error(NotAuthenticated("Not authenticated", event="visitor.get")) == args


# --- PROTOCOL.md §2: the assumed chat.message, visitor.get ------------------------------------


def test_chat_message_request_and_its_reply_golden() -> None:
    request = ChatMessage(chat_id="co2wgLaNKxtOe", visitor_id="viJqfKK4RIOh", text="Yes, we do.")
    wire = (
        f'42{ACK_ID}["chat.message",{{"chatId":"co2wgLaNKxtOe","visitorId":"viJqfKK4RIOh",'
        '"content":{"type":"text","text":"Yes, we do."}}]'
    )
    assert request_frame(request) == wire
    assert decode_request_frame(wire) == request

    stored = {**CONTACT_MESSAGE, "subType": "agent", "agentId": "345111"}
    reply = decode_reply_frame(request, reply_frame([None, stored]))
    assert isinstance(reply, Message)
    assert reply.is_from_agent
    assert not reply.is_from_visitor
    assert reply.agent_id == "345111"
    assert reply.content == Content(type="text", text="Hello, do you ship to Prague?")


def test_visitor_get_keeps_extra_options() -> None:
    wire = f'42{ACK_ID}["visitor.get",{{"id":"viJqfKK4RIOh","fields":["email"]}}]'
    request = decode_request_frame(wire)
    assert request == VisitorGet(id="viJqfKK4RIOh", options={"fields": ["email"]})
    assert (
        request_frame(request)
        == f'42{ACK_ID}["visitor.get",{{"fields":["email"],"id":"viJqfKK4RIOh"}}]'
    )


# --- PROTOCOL.md §4: the visitor side ----------------------------------------------------------

VISITOR_REQUESTS: list[tuple[str, Request]] = [
    (
        '421["visitor.connect",{"pageUrl":"https://shop.example.com/","pageTitle":null,'
        '"referer":null,"domain":"shop.example.com","bundleVersion":"1.0.0","id":null,'
        '"key":"acc-key","name":"Jana","email":"jana@example.com","lang":"cs","visits":1,'
        '"variables":{"plan":"pro"}}]',
        VisitorConnect(
            id=None,
            key="acc-key",
            visitor_name="Jana",
            email="jana@example.com",
            lang="cs",
            page_url="https://shop.example.com/",
            domain="shop.example.com",
            bundle_version="1.0.0",
            visits=1,
            variables={"plan": "pro"},
        ),
    ),
    (
        '421["chat.message",{"content":{"type":"text","text":"Hello"}}]',
        VisitorChatMessage(text="Hello"),
    ),
    (
        '421["chat.message",{"content":{"type":"text","text":"Hi"},"isOffline":true}]',
        VisitorChatMessage(text="Hi", is_offline=True),
    ),
    ('42["chat.typing",{"typing":{"is":true,"text":null}}]', VisitorChatTyping(is_typing=True)),
    ('42["chat.read",null]', ChatRead()),
    ('421["chat.close",null]', ChatClose()),
    (
        '421["chat.rate",{"messageId":"m1","value":5,"text":"Great"}]',
        ChatRate(message_id="m1", value=5, text="Great"),
    ),
    (
        '42["visitor.update",{"values":{"name":"Jana","variables":{"plan":"pro"}}}]',
        VisitorUpdate(values=VisitorValues(name="Jana", variables={"plan": "pro"})),
    ),
]


@pytest.mark.parametrize(("wire", "expected"), VISITOR_REQUESTS, ids=lambda v: "")
def test_visitor_request_golden_frames(wire: str, expected: Request) -> None:
    assert decode_request_frame(wire, side="visitor") == expected
    assert request_frame(expected) == wire


# Frames the official SDK (smartsupp-websocket 1.2.2, in node) sent to a socket.io 2.5.1
# server: createVisitorClient({data: {id: null, key, name, createdAt, properties}}), then
# chatMessage({content, type, isOffline, preventOpenChat}) and updateVisitorIdentity({...}).
SDK_FRAMES: list[tuple[str, Request]] = [
    (
        '420["visitor.connect",{"pageUrl":null,"pageTitle":null,"referer":null,"domain":null,'
        '"bundleVersion":"Websocket SDK 1.2.2","id":null,"key":"acc-key","name":"Ann",'
        '"createdAt":1700000000000,"properties":{"plan":"pro","seats":3,"trial":false}}]',
        VisitorConnect(
            bundle_version="Websocket SDK 1.2.2",
            key="acc-key",
            visitor_name="Ann",
            created_at=1700000000000,
            properties={"plan": "pro", "seats": 3, "trial": False},
        ),
    ),
    (
        '421["chat.message",{"content":{"type":"text","text":"hi"},"type":"contact",'
        '"isOffline":false,"preventOpenChat":true}]',
        VisitorChatMessage(
            text="hi", sender_type="contact", is_offline=False, prevent_open_chat=True
        ),
    ),
    (
        '42["visitor.update",{"values":{"email":"ann@example.com","phone":"+420 777 123 456",'
        '"properties":{"vip":true}}},null]',
        VisitorUpdate(
            values=VisitorValues(
                email="ann@example.com", phone="+420 777 123 456", properties={"vip": True}
            )
        ),
    ),
]


@pytest.mark.parametrize(("wire", "expected"), SDK_FRAMES, ids=lambda v: "")
def test_official_sdk_frame_decodes_strictly_and_encodes_back_to_the_same_json(
    wire: str, expected: Request
) -> None:
    packet = unframe(wire)
    # Fire-and-forget requests carry a trailing null argument (socket.io-client's emit with
    # an undefined ack): framing, not payload; the sandbox drops it before decoding.
    sent = packet.data[:-1] if packet.data[-1] is None else packet.data
    assert decode_request(sent[0], sent[1:], side="visitor") == expected
    name, args = encode_request(expected)
    assert compact([name, *args]) == compact(sent)
    assert expected.expects_ack == (packet.ack_id is not None)


def test_official_sdk_reconnect_frame_decodes_strictly() -> None:
    # After a reconnect the SDK adds the previous reply's identity fields (triggerable
    # included) after its own data; null fields there are left off when encoding back.
    wire = (
        '422["visitor.connect",{"pageUrl":null,"pageTitle":null,"referer":null,"domain":null,'
        '"bundleVersion":"Websocket SDK 1.2.2","id":"v1","key":"acc-key","name":"Ann",'
        '"createdAt":1700000000000,"properties":{"vip":true},"email":"ann@example.com",'
        '"phone":"+420 777 123 456","lang":"cs","group":null,"triggerable":true,"visits":2,'
        '"variables":{"plan":"pro"}}]'
    )
    request = decode_request_frame(wire, side="visitor")
    assert request == VisitorConnect(
        bundle_version="Websocket SDK 1.2.2",
        id="v1",
        key="acc-key",
        visitor_name="Ann",
        email="ann@example.com",
        phone="+420 777 123 456",
        lang="cs",
        visits=2,
        created_at=1700000000000,
        variables={"plan": "pro"},
        properties={"vip": True},
        triggerable=True,
    )
    sent = unframe(wire).data[1]
    _, [payload] = encode_request(request)
    assert payload == {key: value for key, value in sent.items() if key != "group"}


def test_visitor_null_payload_requests_may_also_come_without_argument() -> None:
    assert decode_request("chat.read", [], side="visitor") == ChatRead()
    assert decode_request("chat.close", [], side="visitor") == ChatClose()


def test_same_name_decodes_by_side() -> None:
    agent = decode_request_frame(
        '42["chat.typing",{"chatId":"c","visitorId":"v","typing":{"is":false}}]'
    )
    visitor = decode_request_frame(
        '42["chat.typing",{"typing":{"is":false,"text":null}}]', side="visitor"
    )
    assert agent == ChatTyping(chat_id="c", visitor_id="v", is_typing=False)
    assert visitor == VisitorChatTyping(is_typing=False)


# --- PROTOCOL.md §3-§4: events -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_event_example_decodes_and_encodes_back_to_the_same_frame(name: str) -> None:
    wire = "42" + compact([name, EVENTS[name]])
    packet = unframe(wire)
    [event] = decode_events(packet.data[0], packet.data[1:])
    assert event.name == name
    assert type(event).__name__ not in ("UnknownEvent", "MalformedEvent")
    encoded_name, payload = encode_event(event)
    assert frame(SocketPacket(SocketPacketType.EVENT, [encoded_name, payload])) == wire


def test_chat_message_received_golden() -> None:
    wire = "42" + compact(["chat.message_received", EVENTS["chat.message_received"]])
    packet = unframe(wire)
    assert decode_events(packet.data[0], packet.data[1:]) == [
        ChatMessageReceived(
            chat_id="co2wgLaNKxtOe",
            message=Message(
                id="m1aB3",
                type="message",
                sub_type="contact",
                chat_id="co2wgLaNKxtOe",
                visitor_id="viJqfKK4RIOh",
                channel="default",
                created_at="2019-10-04T14:03:21.877Z",
                content=Content(type="text", text="Hello, do you ship to Prague?"),
            ),
        )
    ]
