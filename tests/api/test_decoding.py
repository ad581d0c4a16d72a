"""Decoding rules (PROTOCOL.md §3): bulk, unknown and malformed events, tolerance, strictness.

Also: errors name the event and the dotted wire path of the field, never echo values, and
no repr or error shows a key or token.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import attrs
import pytest

from agentbot.api import (
    EVENT_TYPES,
    AgentAssigned,
    AgentConnect,
    AgentConnectReply,
    AgentLogout,
    ApiError,
    AuthFailure,
    ChatClose,
    ChatDeleted,
    ChatMessageReceived,
    ChatTyping,
    DecodeError,
    Logout,
    MalformedEvent,
    Message,
    NotAuthenticated,
    NotFound,
    ServerErrorEvent,
    UnknownEvent,
    VisitorConnect,
    agent_ids,
    api_error_from_wire,
    decode_event,
    decode_events,
    decode_reply,
    decode_request,
    encode_bulk,
    encode_event,
    encode_request,
    parse_timestamp,
)
from agentbot.api.rules import fields, wire_names

from .examples import AGENT, CHAT_ID, CONTACT_MESSAGE, EVENTS

KEY = "d57ad424c173ea4541bef97b766c168a83042788"
TOKEN = "6d267d6cd580a4c01afbb2f0b565ab7d"
LEGACY_TOKEN = "33aab1d14b37a28237d61ec166d8ebb1"
DEVICE_TOKEN = "apns-device-token-0123"


def received(**message_changes: Any) -> dict[str, Any]:
    return {"chatId": CHAT_ID, "message": {**CONTACT_MESSAGE, **message_changes}}


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_is_unpacked_in_order_and_a_malformed_item_drops_nothing() -> None:
    items = [
        {"name": "chat.message_received", "data": received(id="first")},
        {"name": "chat.deleted", "data": {"chatId": 42}},  # mistyped: malformed, in place
        "not an event",  # not {name, data}: malformed, in place
        {"name": "chat.future_thing", "data": {"x": 1}},  # unknown: kept raw
        {"name": "chat.message_received", "data": received(id="last")},
    ]
    events = decode_events("bulk", [items])
    assert [type(e) for e in events] == [
        ChatMessageReceived,
        MalformedEvent,
        MalformedEvent,
        UnknownEvent,
        ChatMessageReceived,
    ]
    first, bad_item, not_item, unknown, last = events
    assert isinstance(first, ChatMessageReceived)
    assert first.message.id == "first"
    assert isinstance(last, ChatMessageReceived)
    assert last.message.id == "last"
    assert isinstance(bad_item, MalformedEvent)
    assert (bad_item.name, bad_item.error.event, bad_item.error.field) == (
        "chat.deleted",
        "chat.deleted",
        "chatId",
    )
    assert bad_item.data == {"chatId": 42}
    assert isinstance(not_item, MalformedEvent)
    assert (not_item.name, not_item.error.field, not_item.data) == ("bulk", "[2]", "not an event")
    assert unknown == UnknownEvent(name="chat.future_thing", data={"x": 1})


def test_bulk_payload_that_is_not_a_list_is_one_malformed_event() -> None:
    [event] = decode_events("bulk", [{"name": "chat.deleted"}])
    assert isinstance(event, MalformedEvent)
    assert event.name == "bulk"
    assert "expected a list" in str(event.error)


def test_nested_bulk_is_refused_not_recursed() -> None:
    inner = {"name": "bulk", "data": [{"name": "chat.deleted", "data": {"chatId": "c"}}]}
    [event] = decode_events("bulk", [[inner]])
    assert isinstance(event, MalformedEvent)
    assert event.name == "bulk"


def test_empty_bulk_gives_no_events() -> None:
    assert decode_events("bulk", [[]]) == []


def test_encode_bulk_decodes_back_to_the_same_events() -> None:
    events = [
        decode_event("chat.message_received", received()),
        ChatDeleted(chat_id="c1"),
        UnknownEvent(name="x.y", data=[1, 2]),
    ]
    name, payload = encode_bulk(events)
    assert decode_events(name, [payload]) == events


def test_decode_event_refuses_bulk() -> None:
    with pytest.raises(DecodeError, match="decode_events"):
        decode_event("bulk", [])


# --- unknown and malformed -------------------------------------------------------------------


def test_unknown_event_is_kept_raw_and_encodes_back() -> None:
    [event] = decode_events("chat.brand_new", [{"chatId": "c", "whatever": [1]}])
    assert event == UnknownEvent(name="chat.brand_new", data={"chatId": "c", "whatever": [1]})
    assert encode_event(event) == ("chat.brand_new", {"chatId": "c", "whatever": [1]})
    assert decode_event("chat.brand_new", 5) == UnknownEvent(name="chat.brand_new", data=5)


def test_event_arguments_other_than_one_payload() -> None:
    [none] = decode_events("chat.brand_new", [])
    [several] = decode_events("chat.brand_new", [1, 2])
    assert none == UnknownEvent(name="chat.brand_new", data=None)
    assert several == UnknownEvent(name="chat.brand_new", data=[1, 2])


def _required_wire_keys(name: str) -> list[str]:
    cl = EVENT_TYPES[name]
    names = wire_names(cl)
    return [names[a.name] for a in fields(cl) if a.default is attrs.NOTHING]


# Required fields another field can stand in for (the vendor's sources show both spellings):
# ``chatId`` from ``chat.id`` / ``message.chatId``, and a flat ``visitor.connected`` payload is
# the visitor itself. test_vendor_shapes.py checks what those need instead.
DERIVED = {("chat.opened", "chatId"), ("chat.visitor_closed", "chatId")}
FLAT_PAYLOAD = {"visitor.connected"}
REQUIRED = [
    (name, key)
    for name in sorted(EVENTS)
    for key in _required_wire_keys(name)
    if (name, key) not in DERIVED and name not in FLAT_PAYLOAD
]


@pytest.mark.parametrize(("name", "key"), REQUIRED)
def test_missing_required_field_is_malformed_naming_event_and_field(name: str, key: str) -> None:
    payload = {k: v for k, v in EVENTS[name].items() if k != key}
    [event] = decode_events(name, [payload])
    assert isinstance(event, MalformedEvent)
    assert (event.name, event.data) == (name, payload)
    assert (event.error.event, event.error.field) == (name, key)
    assert str(event.error) == f"{name}: required field missing @ {key}"
    with pytest.raises(DecodeError) as caught:
        decode_event(name, payload)
    assert caught.value.field == key


@pytest.mark.parametrize(("name", "key"), REQUIRED)
def test_mistyped_required_field_is_malformed_naming_event_and_field(name: str, key: str) -> None:
    payload = {**EVENTS[name], key: [["not", "this"]]}
    [event] = decode_events(name, [payload])
    assert isinstance(event, MalformedEvent)
    assert (event.error.event, event.error.field) == (name, key)
    assert str(event.error).startswith(f"{name}: ")


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"subType": 5}, "message.subType", "invalid value for type, expected str"),
        ({"content": None}, "message.content", "expected Content"),
        ({"content": {"text": "hi"}}, "message.content.type", "required field missing"),
        ({"attachments": "nope"}, "message.attachments", "expected tuple"),
        ({"createdAt": 1570197801}, "message.createdAt", "expected str | None"),
    ],
)
def test_nested_field_errors_name_the_dotted_wire_path(
    change: dict[str, Any], field: str, text: str
) -> None:
    [event] = decode_events("chat.message_received", [received(**change)])
    assert isinstance(event, MalformedEvent)
    assert event.error.field == field
    assert text in str(event.error)
    assert f"@ {field}" in str(event.error)


def test_list_item_error_names_its_index() -> None:
    chat = {**EVENTS["chat.opened"]["chat"]}
    chat["messages"] = [CONTACT_MESSAGE, {**CONTACT_MESSAGE, "id": None}]
    [event] = decode_events("chat.opened", [{"chat": chat}])
    assert isinstance(event, MalformedEvent)
    assert event.error.field == "chat.messages[1].id"


def test_payload_that_is_not_an_object_is_malformed_without_field() -> None:
    for payload in (None, "text", [1], 3):
        [event] = decode_events("chat.message_received", [payload])
        assert isinstance(event, MalformedEvent)
        assert event.error.field is None


def test_every_problem_is_listed_up_to_a_bound() -> None:
    payload = {"chatId": 1, "message": {"chatId": 2, "content": {"type": 3}}}
    [event] = decode_events("chat.message_received", [payload])
    assert isinstance(event, MalformedEvent)
    message = str(event.error)
    assert "@ chatId" in message
    assert "@ message.id" in message
    assert message.count(" @ ") == 5
    assert message.endswith("; and 1 more")  # 6 problems: 5 shown


def test_error_messages_never_echo_values() -> None:
    secret_looking = "leaked-" + "x" * 40
    payload = {"chatId": CHAT_ID, "message": {**CONTACT_MESSAGE, "subType": [secret_looking]}}
    [event] = decode_events("chat.message_received", [payload])
    assert isinstance(event, MalformedEvent)
    assert secret_looking not in str(event.error)


# --- tolerance -------------------------------------------------------------------------------


def test_unknown_fields_are_kept_at_every_level_and_written_back() -> None:
    payload = received(reactions=[{"emoji": "+1"}])
    payload["message"]["content"] = {**payload["message"]["content"], "format": "md"}
    payload["sentBy"] = "widget"
    event = decode_event("chat.message_received", payload)
    assert isinstance(event, ChatMessageReceived)
    assert event.extra == {"sentBy": "widget"}
    assert event.message.extra == {"reactions": [{"emoji": "+1"}]}
    assert event.message.content.extra == {"format": "md"}
    assert encode_event(event) == ("chat.message_received", payload)


def test_nulls_for_optional_fields_and_lists_are_accepted() -> None:
    payload = received(
        visitorId=None, agentId=None, groupId=None, channel=None, attachments=None, tags=None
    )
    event = decode_event("chat.message_received", payload)
    assert isinstance(event, ChatMessageReceived)
    message = event.message
    assert (message.visitor_id, message.agent_id, message.attachments, message.tags) == (
        None,
        None,
        (),
        (),
    )


def test_only_fields_a_bot_needs_are_required() -> None:
    minimal = {"id": "m", "type": "message", "subType": "contact", "content": {"type": "text"}}
    event = decode_event("chat.message_received", {"chatId": "c", "message": minimal})
    assert isinstance(event, ChatMessageReceived)
    assert event.message.text is None


def test_timestamps_stay_the_exact_strings_sent() -> None:
    event = decode_event("chat.message_received", received(createdAt="2019-10-04T14:03:21.877Z"))
    assert isinstance(event, ChatMessageReceived)
    assert event.message.created_at == "2019-10-04T14:03:21.877Z"
    assert parse_timestamp(event.message.created_at) == datetime.datetime(
        2019, 10, 4, 14, 3, 21, 877000, tzinfo=datetime.UTC
    )


def test_primitives_are_checked_not_coerced() -> None:
    for change in ({"id": 17}, {"subType": True}):
        [event] = decode_events("chat.message_received", [received(**change)])
        assert isinstance(event, MalformedEvent)
    [rated] = decode_events("chat.rated", [{**EVENTS["chat.rated"], "rating": {"value": True}}])
    assert isinstance(rated, MalformedEvent)
    assert rated.error.field == "rating.value"


def test_decoded_payload_is_not_changed() -> None:
    payload = received(extraField={"a": [1]})
    before = copy.deepcopy(payload)
    decode_events("chat.message_received", [payload])
    assert payload == before


def test_message_helpers_tell_visitor_from_agent() -> None:
    visitor = decode_event("chat.message_received", received())
    agent = decode_event("chat.message_received", received(subType="agent", agentId="345111"))
    assert isinstance(visitor, ChatMessageReceived)
    assert isinstance(agent, ChatMessageReceived)
    assert visitor.message.is_from_visitor
    assert not visitor.message.is_from_agent
    assert agent.message.is_from_agent
    assert not agent.message.is_from_visitor
    assert visitor.message.text == "Hello, do you ship to Prague?"


def test_assigned_ids_read_any_shape() -> None:
    assert agent_ids("a1") == ("a1",)
    assert agent_ids(["a1", {"id": "a2"}, 3]) == ("a1", "a2")
    assert agent_ids({"id": "a3"}) == ("a3",)
    assert agent_ids(None) == ()
    event = decode_event("chat.agent_assigned", EVENTS["chat.agent_assigned"])
    assert isinstance(event, AgentAssigned)
    assert event.assigned_ids == ("345111",)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], Logout()),
        ([None], Logout()),
        (["another_login"], Logout(reason="another_login")),
        ([{"reason": "revoked", "at": 1}], Logout(reason="revoked", extra={"at": 1})),
        ([{"reason": 5}], Logout(extra={"reason": 5})),
        ([[1, 2]], Logout(extra={"payload": [1, 2]})),
    ],
)
def test_logout_is_never_malformed(args: list[Any], expected: Logout) -> None:
    assert decode_events("logout", args) == [expected]


def test_server_error_event_gives_its_typed_error() -> None:
    event = decode_event("server.error", {"message": "Bad key", "type": "auth_failure"})
    assert isinstance(event, ServerErrorEvent)
    error = event.as_error()
    assert isinstance(error, AuthFailure)
    assert error.message == "Bad key"
    forbidden = decode_event("server.error", {"message": "No", "code": 403})
    assert isinstance(forbidden, ServerErrorEvent)
    assert isinstance(forbidden.as_error(), NotAuthenticated)


# --- strict requests -------------------------------------------------------------------------

TYPING = {"chatId": "c", "visitorId": "v", "typing": {"is": True}}


@pytest.mark.parametrize(
    ("name", "args", "field", "text"),
    [
        ("chat.typing", [{**TYPING, "extra": 1}], "extra", "unknown field @ extra"),
        ("chat.typing", [{**TYPING, "typing": {"is": "yes"}}], "typing.is", "expected bool"),
        ("chat.typing", [{**TYPING, "typing": {"is": True, "x": 0}}], "typing.x", "unknown"),
        ("chat.typing", [{"chatId": "c", "typing": {"is": True}}], "visitorId", "missing"),
        ("agent.track_visitors", ["yes"], None, "expected a boolean"),
        ("agent.connect", [{"id": "1", "key": "k", "version": "5"}], "version", "expected int"),
        (
            "chat.message",
            [{"chatId": "c", "visitorId": "v", "content": {"type": "file", "text": "x"}}],
            "content.type",
            "invalid value",
        ),
        ("visitor.get", [{"fields": []}], "id", "missing"),
    ],
)
def test_requests_are_decoded_strictly(
    name: str, args: list[Any], field: str | None, text: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_request(name, args)
    assert (caught.value.event, caught.value.field) == (name, field)
    assert str(caught.value).startswith(f"{name}: ")
    assert text in str(caught.value)


def test_unknown_request_and_wrong_argument_count_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match=r"unknown agent request 'chat\.rate'"):
        decode_request("chat.rate", [{}])
    with pytest.raises(DecodeError, match=r"unknown visitor request 'agent\.connect'"):
        decode_request("agent.connect", [{}], side="visitor")
    with pytest.raises(DecodeError, match="expected one payload argument, got 2"):
        decode_request("chat.typing", [TYPING, TYPING])
    with pytest.raises(DecodeError, match="got 0"):
        decode_request("chat.typing", [])


# --- replies and wire errors ---------------------------------------------------------------

CONNECT = AgentConnect(id="345111", key=KEY, auth_token=TOKEN)


def test_decode_reply_gives_the_typed_reply() -> None:
    reply = decode_reply(
        CONNECT, [None, {"serverVersion": 3, "agent": AGENT, "account": {}, "region": "eu"}]
    )
    assert isinstance(reply, AgentConnectReply)
    assert reply.agent.nickname == "morlok"
    assert reply.extra == {"region": "eu"}


def test_decode_reply_that_does_not_fit_is_a_decode_error_naming_request_and_field() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_reply(CONNECT, [None, {"serverVersion": 3, "agent": {"status": "online"}}])
    assert caught.value.event == "agent.connect"
    assert caught.value.field == "agent.id"
    assert "account" in str(caught.value)


def test_decode_reply_of_a_request_without_reply_type_is_raw() -> None:
    assert decode_reply(ChatClose(), [None, {"closed": True}]) == {"closed": True}
    assert decode_reply(ChatClose(), []) is None
    assert decode_reply(ChatClose(), [None]) is None


@pytest.mark.parametrize(
    ("wire", "cls"),
    [
        ({"message": "m", "event": "agent.connect", "type": "auth_failure"}, AuthFailure),
        ({"message": "m", "event": "agent.logout", "type": "not_found"}, NotFound),
        (
            {"message": "m", "event": "visitor.get", "type": "auth_error", "code": 403},
            NotAuthenticated,
        ),
        ({"message": "m", "code": 403}, NotAuthenticated),
        ({"message": "m", "code": "403"}, NotAuthenticated),
        ({"message": "m", "type": "rate_limit", "code": 429}, ApiError),
        ({"type": "internal"}, ApiError),
        ("Internal error", ApiError),
        (42, ApiError),
    ],
)
def test_wire_error_objects_map_to_typed_errors(wire: Any, cls: type[ApiError]) -> None:
    error = api_error_from_wire(wire)
    assert type(error) is cls
    assert error.raw == wire
    with pytest.raises(cls):
        decode_reply(CONNECT, [wire, None])


def test_long_wire_error_message_is_cut() -> None:
    error = api_error_from_wire({"message": "x" * 5000, "type": "boom"})
    assert len(str(error)) < 700


# --- secrets ---------------------------------------------------------------------------------


def test_reprs_never_show_key_or_tokens() -> None:
    requests = [
        AgentConnect(
            id="345111",
            key=KEY,
            auth_token=TOKEN,
            authtoken=LEGACY_TOKEN,
            device_token=DEVICE_TOKEN,
        ),
        AgentLogout(device_token=DEVICE_TOKEN, device_platform="ios"),
        VisitorConnect(key=KEY),
    ]
    for request in requests:
        for text in (repr(request), str(request)):
            for secret in (KEY, TOKEN, LEGACY_TOKEN, DEVICE_TOKEN):
                assert secret not in text
    assert "id='345111'" in repr(requests[0])


def test_decode_errors_of_a_connect_never_show_key_or_tokens() -> None:
    payload = {"version": 5, "id": KEY, "key": [TOKEN], "authToken": {"t": LEGACY_TOKEN}, KEY: 1}
    payload["id"] = 345111
    with pytest.raises(DecodeError) as caught:
        decode_request("agent.connect", [payload])
    message = str(caught.value)
    for secret in (TOKEN, LEGACY_TOKEN):
        assert secret not in message
    assert "@ id" in message
    assert "@ key" in message
    assert "@ authToken" in message


def test_encoded_connect_carries_the_secrets_on_the_wire() -> None:
    # repr hides them; the wire must of course still carry them.
    _, [payload] = encode_request(CONNECT)
    assert (payload["key"], payload["authToken"]) == (KEY, TOKEN)


def test_models_are_frozen_and_keyword_only() -> None:
    message = Message(id="m", type="message", sub_type="contact", content=decode_content())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        message.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ChatTyping("c", "v", True)  # type: ignore[call-arg]
    assert attrs.evolve(message, id="other").id == "other"


def decode_content() -> Any:
    event = decode_event("chat.message_received", received())
    assert isinstance(event, ChatMessageReceived)
    return event.message.content
