"""Golden tests for every shape the vendor's own sources show (shared/VENDOR-SOURCES.md).

Each test names its source in its name or docstring: S1 is the REST spec
(``smartsupp/openapi-client`` ``packages/generator/test/data/spec2.json``, generated types in
``packages/generator/test/out/types.ts``), S2 the visitor SDK (``smartsupp/smartsupp-sdk-websocket``
``src/types.ts``, ``src/events.ts``; the same declarations ship as
``tests/interop/node_modules/smartsupp-websocket/lib/*.d.ts``), S3 the compiled agent client
(``src/agent.ts`` by its source map) and the Svelte widget's ``websocketEventHandlers``, S4 the
socket docs (``apis/socket/requests.html``, ``apis/socket/events.html``). Payloads are built
from the field lists those sources quote; where a source shows two spellings, both are decoded.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentbot.api import (
    RATING_SCALE,
    AgentAssignData,
    AgentAssigned,
    AgentConnect,
    AgentConnected,
    AgentDisconnected,
    AgentJoinData,
    AgentJoined,
    AgentLeaveData,
    AgentLeft,
    AgentLogout,
    AgentUnassignData,
    AgentUnassigned,
    AgentUpdated,
    Attachment,
    Chat,
    ChatAgentTyping,
    ChatClosed,
    ChatCloseData,
    ChatContactRead,
    ChatDeleted,
    ChatMessageReceived,
    ChatOpened,
    ChatRated,
    ChatStatus,
    ChatTyping,
    ChatUpdated,
    ChatVisitorClosed,
    CloseType,
    ContentType,
    Group,
    MalformedEvent,
    Message,
    MessageSubType,
    MessageType,
    RateFormData,
    Rating,
    ServerErrorEvent,
    TrackVisitors,
    UnknownEvent,
    Visitor,
    VisitorConnected,
    VisitorGet,
    VisitorStatus,
    VisitorUpdated,
    apply_changes,
    decode_event,
    decode_events,
    decode_request,
    encode_event,
    encode_request,
)
from agentbot.api.converter import structure, unstructure

CHAT_ID = "cod1L4y1Gtxq"  # S1 example conversation id
MESSAGE_ID = "msd1L4y1Gtxq"  # S1 example message id
VISITOR_ID = "viAm4tpZY1dil"  # S1 example visitor id
CONTACT_ID = "ctDTWhIJxDn79"  # S1 example contact id
AGENT_ID = "34556"  # S1 example message.agentId (a string, unlike REST agent.id)
OTHER_AGENT_ID = "34557"
CREATED = "2021-01-12T10:00:00.000Z"


def roundtrips(name: str, event: Any) -> None:
    """What agentbot writes for ``event`` decodes back to the same object."""
    out_name, payload = encode_event(event)
    assert out_name == name
    assert decode_event(name, payload) == event


def socket_message(**changes: Any) -> dict[str, Any]:
    """S2 ``IMessage``: id, type, subType, channel, chatId, groupId, visitorId, agentId, trigger,
    createdAt, content, tags, responseTime, attachments (all present, as the SDK types them)."""
    return {
        "id": MESSAGE_ID,
        "type": "message",
        "subType": "contact",
        "channel": {"type": "default", "id": None},
        "chatId": CHAT_ID,
        "groupId": None,
        "visitorId": VISITOR_ID,
        "agentId": None,
        "trigger": None,
        "createdAt": CREATED,
        "content": {"type": "text", "text": "Do you ship to Prague?", "data": None},
        "tags": None,
        "responseTime": None,
        "attachments": [],
        **changes,
    }


def system_event(content_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """S2 ``MessageEventGeneric<System, …>``: ``type: "event"``, ``subType: "system"``."""
    return socket_message(
        type="event", subType="system", content={"type": content_type, "text": None, "data": data}
    )


def s2_agent(agent_id: str = AGENT_ID) -> dict[str, Any]:
    """S2 ``Agent {id, status, groups, nickname, fullname, description, avatar}``."""
    return {
        "id": agent_id,
        "status": "online",
        "groups": ["default"],
        "nickname": "eva",
        "fullname": "Eva Novak",
        "description": "Support",
        "avatar": "https://example.com/eva.png",
    }


def received(message: dict[str, Any]) -> Message:
    event = decode_event("chat.message_received", {"chatId": CHAT_ID, "message": message})
    assert isinstance(event, ChatMessageReceived)
    return event.message


# --- §2.1 requests: S3 AgentClient, S4 requests.html ----------------------------------------


def test_s3_agent_connect_sends_version_5_first() -> None:
    """S3 ``emit('agent.connect', {version: AgentClient.CLIENT_VERSION /*5*/, ...connectData})``."""
    request = decode_request("agent.connect", [{"version": 5, "id": AGENT_ID, "key": "k"}])
    assert isinstance(request, AgentConnect)
    assert request.version == 5


def test_s3_agent_logout_sends_null_device_fields() -> None:
    """S3 ``emit('agent.logout', {deviceToken: … || null, devicePlatform: … || null}, cb)``."""
    request = decode_request("agent.logout", [{"deviceToken": None, "devicePlatform": None}])
    assert request == AgentLogout()


def test_s3_track_visitors_is_a_bare_boolean_without_ack() -> None:
    """S3 ``connection.emit('agent.track_visitors', track)``, no callback."""
    assert decode_request("agent.track_visitors", [True]) == TrackVisitors(enabled=True)
    assert encode_request(TrackVisitors(enabled=False)) == ("agent.track_visitors", [False])
    assert TrackVisitors.expects_ack is False


def test_s3_chat_typing_with_text_null() -> None:
    """S3 ``send('chat.typing', {chatId, visitorId, typing: {is, text: null}})``."""
    payload = {"chatId": CHAT_ID, "visitorId": VISITOR_ID, "typing": {"is": True, "text": None}}
    request = decode_request("chat.typing", [payload])
    assert request == ChatTyping(chat_id=CHAT_ID, visitor_id=VISITOR_ID, is_typing=True)


def test_s3_visitor_get_is_id_plus_options() -> None:
    """S3 ``visitorGet(id, options = {})`` → ``emit('visitor.get', {id, ...options}, callback)``."""
    request = decode_request("visitor.get", [{"id": VISITOR_ID, "paths": 5}])
    assert request == VisitorGet(id=VISITOR_ID, options={"paths": 5})


# --- §2.2 Message: S1 message (sub_type), S2 IMessage (subType) -----------------------------


def test_s2_imessage_decodes_with_its_extra_fields_kept() -> None:
    message = received(socket_message())
    assert (message.type, message.sub_type, message.text) == (
        "message",
        "contact",
        "Do you ship to Prague?",
    )
    assert message.is_from_visitor
    assert message.channel == {"type": "default", "id": None}
    assert message.extra == {"trigger": None, "responseTime": None}


def test_s1_rest_message_spells_sub_type_and_decodes_the_same() -> None:
    """S1 ``message`` (all required): id, type, sub_type, channel, chatId, groupId, agentId,
    visitorId, createdAt, content{type, text, data}, trigger, responseTime, deliveryTo,
    deliveryStatus, deliveryFailReason, deliveredAt, attachments[]."""
    rest = {
        "id": MESSAGE_ID,
        "type": "message",
        "sub_type": "agent",
        "channel": {"type": "default", "id": None},
        "chatId": CHAT_ID,
        "groupId": None,
        "agentId": AGENT_ID,
        "visitorId": VISITOR_ID,
        "createdAt": CREATED,
        "content": {"type": "text", "text": "Yes, we do.", "data": None},
        "trigger": None,
        "responseTime": 12,
        "deliveryTo": None,
        "deliveryStatus": None,
        "deliveryFailReason": None,
        "deliveredAt": None,
        "attachments": [],
    }
    message = structure(rest, Message, event="create_message")
    assert (message.sub_type, message.agent_id, message.text) == ("agent", AGENT_ID, "Yes, we do.")
    assert message.is_from_agent
    assert "sub_type" not in message.extra
    camel = {("subType" if k == "sub_type" else k): v for k, v in rest.items()}
    assert received(camel) == message


def test_both_spellings_present_the_socket_one_wins_and_the_other_is_kept() -> None:
    message = received(socket_message(sub_type="agent"))
    assert message.sub_type == "contact"
    assert message.extra["sub_type"] == "agent"


@pytest.mark.parametrize("message_type", ["message", "note", "event"])
def test_s1_message_type_enum_includes_note(message_type: str) -> None:
    """S1 ``message_type_enum`` is ``["message", "note", "event"]``."""
    assert message_type in set(MessageType)
    message = received(socket_message(type=message_type))
    assert message.type == message_type


@pytest.mark.parametrize("sub_type", ["agent", "contact", "system", "trigger", "bot"])
def test_s1_message_sub_type_enum(sub_type: str) -> None:
    """S1 ``message_sub_type_enum`` ``[agent, contact, system, trigger, bot]`` (S2 lacks bot)."""
    assert sub_type in set(MessageSubType)
    assert received(socket_message(subType=sub_type)).sub_type == sub_type


@pytest.mark.parametrize("sub_type", ["contact", "agent", "system", "trigger", "bot"])
def test_s1_a_note_is_never_visitor_input(sub_type: str) -> None:
    """S1 create_message accepts ``type: "note"``: an internal note, whoever it names."""
    note = received(socket_message(type="note", subType=sub_type, agentId=AGENT_ID))
    assert note.is_note
    assert not note.is_from_visitor


@pytest.mark.parametrize("message_type", ["note", "event"])
def test_only_a_contact_message_is_visitor_input(message_type: str) -> None:
    assert received(socket_message()).is_from_visitor
    assert not received(socket_message(type=message_type)).is_from_visitor


# --- §2.2 Content: S2 MessageContent and MessageEventContent ---------------------------------

EVENT_CONTENTS: list[tuple[str, dict[str, Any], Any]] = [
    # S2 MessageEventContent.AgentJoin {agentId}
    ("agent_join", {"agentId": AGENT_ID}, AgentJoinData(agent_id=AGENT_ID)),
    # S2 MessageEventContent.AgentLeave {agentId}
    ("agent_leave", {"agentId": AGENT_ID}, AgentLeaveData(agent_id=AGENT_ID)),
    # S2 MessageEventContent.AgentAssign {assigned, assignedBy}
    (
        "agent_assign",
        {"assigned": AGENT_ID, "assignedBy": OTHER_AGENT_ID},
        AgentAssignData(assigned=AGENT_ID, assigned_by=OTHER_AGENT_ID),
    ),
    # S2 MessageEventContent.AgentUnassign {unassigned, unassignedBy}
    (
        "agent_unassign",
        {"unassigned": AGENT_ID, "unassignedBy": OTHER_AGENT_ID},
        AgentUnassignData(unassigned=AGENT_ID, unassigned_by=OTHER_AGENT_ID),
    ),
    # S2 MessageEventContent.ChatClose {closeType, agentId?} (agentId only for agent_close)
    (
        "chat_close",
        {"closeType": "agent_close", "agentId": AGENT_ID},
        ChatCloseData(close_type="agent_close", agent_id=AGENT_ID),
    ),
    ("chat_close", {"closeType": "visitor_close"}, ChatCloseData(close_type="visitor_close")),
    # S3 widget: closeType === 'bot_close'
    ("chat_close", {"closeType": "bot_close"}, ChatCloseData(close_type="bot_close")),
]


@pytest.mark.parametrize(("content_type", "data", "expected"), EVENT_CONTENTS)
def test_s2_system_event_contents_are_typed(
    content_type: str, data: dict[str, Any], expected: Any
) -> None:
    message = received(system_event(content_type, data))
    assert message.is_event
    assert not message.is_from_visitor
    assert not message.is_from_agent
    assert message.content.type in set(ContentType)
    assert message.content.typed_data == expected
    assert message.content.data == data  # the raw data stays as sent


def test_s2_rate_form_is_a_system_message_with_value_and_text() -> None:
    """S2 ``MessageGeneric<System, MessageContent.RateForm>``, data ``{value, text}``."""
    content = {"type": "rate_form", "text": "Quick", "data": {"value": 5, "text": "Quick"}}
    message = received(socket_message(subType="system", content=content))
    assert message.type == MessageType.MESSAGE
    assert not message.is_from_visitor
    data = message.content.typed_data
    assert data == RateFormData(value=5, text="Quick")
    assert isinstance(data, RateFormData)
    assert data.is_best


def test_s2_upload_content_data_is_an_attachment() -> None:
    """S2 ``MessageContent.Upload`` data = ``Attachment {type, fileName, fileType, url, expireAt,
    size, width, height, thumb400?}``."""
    attachment = {
        "type": "image",
        "fileName": "cart.png",
        "fileType": "image/png",
        "url": "https://files.example.com/cart.png",
        "expireAt": CREATED,
        "size": 2048,
        "width": 640,
        "height": 480,
        "thumb400": {"url": "https://files.example.com/t.png", "width": 400, "height": 300},
    }
    message = received(socket_message(content={"type": "upload", "text": None, "data": attachment}))
    data = message.content.typed_data
    assert isinstance(data, Attachment)
    assert (data.file_name, data.size, data.width) == ("cart.png", 2048, 640)
    assert data.extra == {"thumb400": attachment["thumb400"]}


def test_unknown_content_types_and_misfit_data_stay_raw() -> None:
    odd = received(socket_message(content={"type": "carousel", "data": {"cards": []}}))
    assert odd.content.typed_data is None
    assert odd.content.data == {"cards": []}
    misfit = received(system_event("agent_join", {"agentId": 34556}))
    assert misfit.content.typed_data is None
    assert misfit.content.data == {"agentId": 34556}
    assert received(socket_message()).content.typed_data is None  # text has no data class


# --- §2.2 Chat: S1 conversation, S2 ChatInfo ---------------------------------------------------


def s1_conversation(**changes: Any) -> dict[str, Any]:
    """S1 ``conversation`` (required): id, type, status, channel, contactId, visitorId,
    createdAt, updatedAt, finishedAt, agentIds[], assignedIds[], groupId, locIp, locCity,
    locCode, locCountry, rating, referer, domain, userAgent, tags[], variables, important,
    isClosed, isOffline, isServed."""
    return {
        "id": CHAT_ID,
        "type": "chat",
        "status": "served",
        "channel": {"type": "default", "id": None},
        "contactId": CONTACT_ID,
        "visitorId": VISITOR_ID,
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "finishedAt": None,
        "agentIds": [34556],
        "assignedIds": [AGENT_ID],
        "groupId": None,
        "locIp": "192.0.2.10",
        "locCity": "Prague",
        "locCode": "CZ",
        "locCountry": "Czechia",
        "rating": None,
        "referer": None,
        "domain": "shop.example.com",
        "userAgent": "Mozilla/5.0",
        "tags": ["shipping"],
        "variables": {},
        "important": True,
        "isClosed": False,
        "isOffline": False,
        "isServed": True,
        **changes,
    }


def test_s1_conversation_decodes_as_chat_with_status_served() -> None:
    chat = structure(s1_conversation(), Chat, event="get_conversation")
    assert chat.status == ChatStatus.SERVED
    assert (chat.contact_id, chat.tags, chat.important, chat.is_served) == (
        CONTACT_ID,
        ("shipping",),
        True,
        True,
    )
    assert chat.agent_ids == (34556,)  # REST agent ids are numbers: kept raw
    assert chat.extra["type"] == "chat"
    assert structure(unstructure(chat), Chat, event="get_conversation") == chat


@pytest.mark.parametrize("status", ["pending", "open", "served", "closed"])
def test_s1_conversation_status_enum(status: str) -> None:
    """S1 ``conversation_status_enum`` ``[pending, open, served, closed]``."""
    assert status in set(ChatStatus)
    assert structure(s1_conversation(status=status), Chat, event="x").status == status


def test_s2_chat_info_with_read_infos_in_extra() -> None:
    """S2 ``ChatInfo {id, assignedIds|null, rating, status, readInfo, unreadInfo, messages}``."""
    info = {
        "id": CHAT_ID,
        "assignedIds": None,
        "rating": {"value": 3, "text": None},
        "status": "open",
        "readInfo": {"type": "visitor", "lastReadAt": None},
        "unreadInfo": {"type": "agent", "count": 0, "lastReadAt": None},
        "messages": [socket_message()],
    }
    chat = structure(info, Chat, event="visitor.connect")
    assert chat.assigned_ids == ()
    assert chat.rating == Rating(value=3)
    assert set(chat.extra) == {"readInfo", "unreadInfo"}


# --- §2.2 Visitor: S2 (visitor side), S4 and S1 (agent side) ----------------------------------


def s4_flat_visitor() -> dict[str, Any]:
    """S4 events.html visitor.connected example, its field list in order (values made up)."""
    return {
        "id": "viJqfKK4RIOh",
        "persisted": True,
        "status": "active",
        "chatId": None,
        "contactId": None,
        "createdAt": CREATED,
        "connectedAt": CREATED,
        "lang": "cs",
        "name": None,
        "email": None,
        "note": None,
        "bannedAt": None,
        "domain": "shop.example.com",
        "pageUrl": "https://shop.example.com/cart",
        "referer": "https://www.example.com/",
        "locIp": "192.0.2.10",
        "locCode": "CZ",
        "locCountry": "Czechia",
        "locCity": "Prague",
        "viewsCount": 7,
        "chatsCount": 1,
        "visitsCount": 3,
        "servedBy": [],
        "userAgent": "Mozilla/5.0",
        "browser": "Firefox",
    }


def test_s4_visitor_connected_is_the_flat_visitor_object() -> None:
    event = decode_event("visitor.connected", s4_flat_visitor())
    assert isinstance(event, VisitorConnected)
    visitor = event.visitor
    assert visitor.id == "viJqfKK4RIOh"
    assert visitor.status == VisitorStatus.ACTIVE
    assert (visitor.visits_count, visitor.views_count, visitor.chats_count) == (3, 7, 1)
    assert (visitor.loc_code, visitor.loc_country, visitor.loc_city) == ("CZ", "Czechia", "Prague")
    assert (visitor.domain, visitor.user_agent, visitor.connected_at) == (
        "shop.example.com",
        "Mozilla/5.0",
        CREATED,
    )
    assert visitor.visits is None
    assert visitor.visit_count == 3
    assert set(visitor.extra) == {"persisted", "note", "browser"}
    assert event.extra == {}
    roundtrips("visitor.connected", event)


def test_s4_visitor_connected_is_written_flat_like_the_server() -> None:
    event = decode_event("visitor.connected", s4_flat_visitor())
    _name, payload = encode_event(event)
    assert payload["id"] == "viJqfKK4RIOh"
    assert "visitor" not in payload


def test_visitor_connected_wrapped_variant_still_decodes() -> None:
    """agentbot's earlier assumption ``{visitor}``: the same visitor."""
    flat = decode_event("visitor.connected", s4_flat_visitor())
    wrapped = decode_event("visitor.connected", {"visitor": s4_flat_visitor()})
    assert wrapped == flat
    with_more = decode_event("visitor.connected", {"visitor": s4_flat_visitor(), "tab": 2})
    assert isinstance(with_more, VisitorConnected)
    assert with_more.extra == {"tab": 2}
    roundtrips("visitor.connected", with_more)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"status": "active"}, "visitor.id"), ({"visitor": {"status": "active"}}, "visitor.id")],
)
def test_visitor_connected_without_id_is_malformed(payload: dict[str, Any], field: str) -> None:
    [event] = decode_events("visitor.connected", [payload])
    assert isinstance(event, MalformedEvent)
    assert event.error.field == field


@pytest.mark.parametrize("status", ["active", "clicked", "served", "triggered", "unserved"])
def test_s1_visitor_status_values(status: str) -> None:
    """S1 ``visitor_simple.status`` ``active|clicked|served|triggered|unserved``."""
    assert status in set(VisitorStatus)
    assert structure({"id": VISITOR_ID, "status": status}, Visitor, event="x").status == status


def test_s1_visitor_simple_decodes() -> None:
    """S1 ``visitor_simple``: id, avatar{color{text,bg},initials}, bannedAt, chatsCount,
    connectedAt, contactId, createdAt, domain, email, group, lastSeenAt, locCode, locCountry,
    name, pageTitle, pageUrl, referer, servedBy[], status, viewsCount, visitsCount."""
    simple = {
        "id": VISITOR_ID,
        "avatar": {"color": {"text": "#fff", "bg": "#000"}, "initials": "JN"},
        "bannedAt": None,
        "chatsCount": 2,
        "connectedAt": CREATED,
        "contactId": CONTACT_ID,
        "createdAt": CREATED,
        "domain": "shop.example.com",
        "email": "jana@example.com",
        "group": None,
        "lastSeenAt": CREATED,
        "locCode": "CZ",
        "locCountry": "Czechia",
        "name": "Jana",
        "pageTitle": "Cart",
        "pageUrl": "https://shop.example.com/cart",
        "referer": None,
        "servedBy": [AGENT_ID],
        "status": "served",
        "viewsCount": 9,
        "visitsCount": 4,
    }
    visitor = structure(simple, Visitor, event="search_visitors")
    assert (visitor.contact_id, visitor.served_by, visitor.visit_count) == (
        CONTACT_ID,
        (AGENT_ID,),
        4,
    )
    assert set(visitor.extra) == {"avatar", "lastSeenAt"}


def test_s2_visitor_side_visitor_keeps_visits() -> None:
    """S2 ``Visitor {id, chatId, lang, name, email, phone, bannedAt, group, visits, variables}``."""
    sdk = {
        "id": VISITOR_ID,
        "chatId": None,
        "lang": "en",
        "name": None,
        "email": None,
        "phone": None,
        "bannedAt": None,
        "group": None,
        "visits": 2,
        "variables": {"plan": "pro"},
    }
    visitor = structure(sdk, Visitor, event="visitor.connect")
    assert (visitor.visits, visitor.visits_count, visitor.visit_count) == (2, None, 2)
    assert visitor.extra == {}


def test_s2_visitor_updated_changes_apply_to_a_known_visitor() -> None:
    """S2 ``Events.VisitorUpdated {id, changes: Partial<Visitor>}``."""
    event = decode_event("visitor.updated", {"id": VISITOR_ID, "changes": {"name": "Jana"}})
    assert event == VisitorUpdated(id=VISITOR_ID, changes={"name": "Jana"})
    visitor = Visitor(id=VISITOR_ID, visits_count=1)
    assert apply_changes(visitor, event.changes, event=event.name) == Visitor(
        id=VISITOR_ID, visits_count=1, name="Jana"
    )


# --- §2.2 Agent, Group, Rating ------------------------------------------------------------------


def test_s2_group_with_status_keeps_it() -> None:
    """seed ``{key, name}``; S2 ``Group {key, name, status}``."""
    group = structure({"key": "default", "name": "Sales", "status": "online"}, Group, event="x")
    assert (group.key, group.name, group.extra) == ("default", "Sales", {"status": "online"})


@pytest.mark.parametrize("value", RATING_SCALE)
def test_s1_rating_scale_is_1_3_5(value: int) -> None:
    """S1 ``conversation_rating.value`` ``enum [1, 3, 5]``, "5 is best, 1 worst"; text|null."""
    rating = structure({"value": value, "text": None}, Rating, event="x")
    assert rating.is_on_scale
    assert rating.is_best == (value == 5)
    assert rating.is_worst == (value == 1)


def test_s2_rating_off_the_scale_is_kept_not_refused() -> None:
    """S2 ``Rating {value: number, text: string|null}``: other numbers may come."""
    rating = structure({"value": 4, "text": "ok"}, Rating, event="x")
    assert (rating.value, rating.is_on_scale, rating.is_best) == (4, False, False)


# --- §2.3 events ------------------------------------------------------------------------------


def test_s3_bulk_delivers_its_items_in_order() -> None:
    """S3 ``onBulk(data)``: ``for item of data: emit(item.name, item.data)``."""
    items = [
        {"name": "chat.deleted", "data": {"chatId": "a"}},
        {"name": "chat.served", "data": {"chatId": "b"}},
        {"name": "chat.deleted", "data": {"chatId": "c"}},
    ]
    events = decode_events("bulk", [items])
    assert events == [
        ChatDeleted(chat_id="a"),
        UnknownEvent(name="chat.served", data={"chatId": "b"}),
        ChatDeleted(chat_id="c"),
    ]


def test_chat_opened_with_chat_object() -> None:
    """agentbot's assumption ``{chat}`` (S4 stops before chat.opened): chat_id from chat.id."""
    chat = {"id": CHAT_ID, "visitorId": VISITOR_ID, "status": "pending", "assignedIds": []}
    event = decode_event("chat.opened", {"chat": chat})
    assert isinstance(event, ChatOpened)
    assert event.chat_id == CHAT_ID
    assert event.chat is not None
    assert event.chat.visitor_id == VISITOR_ID
    roundtrips("chat.opened", event)


def test_s3_widget_chat_opened_is_a_bare_chat_id() -> None:
    """S3 widget ``({ chatId: id }: VisitorEvents.ChatOpened)``: the chat is left to fetch."""
    event = decode_event("chat.opened", {"chatId": CHAT_ID})
    assert event == ChatOpened(chat_id=CHAT_ID, chat=None)
    roundtrips("chat.opened", event)


@pytest.mark.parametrize("payload", [{}, {"chat": {"status": "open"}}, {"chat": None}])
def test_chat_opened_without_any_chat_id_is_malformed(payload: dict[str, Any]) -> None:
    [event] = decode_events("chat.opened", [payload])
    assert isinstance(event, MalformedEvent)


@pytest.mark.parametrize("close_type", ["visitor_close", "agent_close", "bot_close"])
def test_s2_chat_closed_with_its_chat_close_message(close_type: str) -> None:
    """S2 ``Events.ChatClosed {chatId, closeType: string|null, message: MessageEventGeneric<System,
    ChatClose>}``; S3 widget handles ``agent_close`` and ``bot_close``."""
    data: dict[str, Any] = {"closeType": close_type}
    if close_type == "agent_close":
        data["agentId"] = AGENT_ID
    payload = {
        "chatId": CHAT_ID,
        "closeType": close_type,
        "message": system_event("chat_close", data),
    }
    event = decode_event("chat.closed", payload)
    assert isinstance(event, ChatClosed)
    assert event.close_type == close_type
    assert close_type in set(CloseType)
    assert event.message is not None
    assert event.message.content.typed_data == ChatCloseData(
        close_type=close_type, agent_id=data.get("agentId")
    )
    roundtrips("chat.closed", event)


def test_s2_chat_closed_close_type_null_reads_the_message() -> None:
    """S2 types ``closeType`` as ``string|null``; the widget reads the message's data instead."""
    payload = {
        "chatId": CHAT_ID,
        "closeType": None,
        "message": system_event("chat_close", {"closeType": "bot_close"}),
    }
    event = decode_event("chat.closed", payload)
    assert isinstance(event, ChatClosed)
    assert (event.close_type, event.closed_by) == (None, "bot_close")


def test_s3_widget_chat_visitor_closed_carries_a_message() -> None:
    """S3 widget ``({ message }: VisitorEvents.ChatVisitorClosed)``: chatId from the message."""
    message = system_event("chat_close", {"closeType": "visitor_close"})
    event = decode_event("chat.visitor_closed", {"message": message})
    assert isinstance(event, ChatVisitorClosed)
    assert event.chat_id == CHAT_ID
    assert event.message is not None
    assert event.message.is_event
    with_id = decode_event("chat.visitor_closed", {"chatId": CHAT_ID, "message": message})
    assert with_id == event
    assert decode_event("chat.visitor_closed", {"chatId": CHAT_ID}) == ChatVisitorClosed(
        chat_id=CHAT_ID
    )
    roundtrips("chat.visitor_closed", event)


def test_s3_widget_chat_updated_changes() -> None:
    """S3 widget ``({ changes }: VisitorEvents.ChatUpdated)`` with ``changes.isClosed`` …"""
    changes = {"isClosed": True, "widgetOptions": {}, "virtualAgent": None}
    event = decode_event("chat.updated", {"chatId": CHAT_ID, "changes": changes})
    assert event == ChatUpdated(chat_id=CHAT_ID, changes=changes)


def test_s2_chat_message_received() -> None:
    """S2 ``Events.ChatMessageReceived {chatId, message: IMessage}``."""
    event = decode_event("chat.message_received", {"chatId": CHAT_ID, "message": socket_message()})
    assert isinstance(event, ChatMessageReceived)
    roundtrips("chat.message_received", event)


@pytest.mark.parametrize(
    ("name", "cls", "content_type"),
    [
        ("chat.agent_joined", AgentJoined, "agent_join"),
        ("chat.agent_left", AgentLeft, "agent_leave"),
    ],
)
def test_s2_agent_joined_and_left(name: str, cls: type[Any], content_type: str) -> None:
    """S2 ``Events.ChatAgentJoined``/``ChatAgentLeft {chatId, agent: Agent, message}``."""
    payload = {
        "chatId": CHAT_ID,
        "agent": s2_agent(),
        "message": system_event(content_type, {"agentId": AGENT_ID}),
    }
    event = decode_event(name, payload)
    assert isinstance(event, cls)
    assert event.agent.id == AGENT_ID
    roundtrips(name, event)


def test_s2_agent_assigned_with_agent_objects() -> None:
    """S2 ``Events.ChatAgentAssigned {chatId, assigned: Agent, assignedBy: Agent, message}``."""
    payload = {
        "chatId": CHAT_ID,
        "assigned": s2_agent(AGENT_ID),
        "assignedBy": s2_agent(OTHER_AGENT_ID),
        "message": system_event(
            "agent_assign", {"assigned": AGENT_ID, "assignedBy": OTHER_AGENT_ID}
        ),
    }
    event = decode_event("chat.agent_assigned", payload)
    assert isinstance(event, AgentAssigned)
    assert event.assigned_ids == (AGENT_ID,)
    assert event.message is not None
    assert event.message.content.typed_data == AgentAssignData(
        assigned=AGENT_ID, assigned_by=OTHER_AGENT_ID
    )


def test_s2_agent_unassigned_with_agent_objects() -> None:
    """S2 ``Events.ChatAgentUnassigned {chatId, unassigned: Agent, unassignedBy: Agent, …}``."""
    payload = {
        "chatId": CHAT_ID,
        "unassigned": s2_agent(AGENT_ID),
        "unassignedBy": s2_agent(OTHER_AGENT_ID),
        "message": system_event(
            "agent_unassign", {"unassigned": AGENT_ID, "unassignedBy": OTHER_AGENT_ID}
        ),
    }
    event = decode_event("chat.agent_unassigned", payload)
    assert isinstance(event, AgentUnassigned)
    assert event.unassigned_ids == (AGENT_ID,)


def test_s2_chat_rated_with_rate_form_message() -> None:
    """S2 ``Events.ChatRated {chatId, rating, message: MessageGeneric<System, RateForm>}``."""
    payload = {
        "chatId": CHAT_ID,
        "rating": {"value": 1, "text": "Too slow"},
        "message": socket_message(
            subType="system",
            content={"type": "rate_form", "text": None, "data": {"value": 1, "text": "Too slow"}},
        ),
    }
    event = decode_event("chat.rated", payload)
    assert isinstance(event, ChatRated)
    assert event.rating.is_worst
    assert event.message is not None
    assert not event.message.is_from_visitor


def test_s2_chat_deleted() -> None:
    """S2 ``Events.ChatDeleted {chatId}``."""
    assert decode_event("chat.deleted", {"chatId": CHAT_ID}) == ChatDeleted(chat_id=CHAT_ID)


def test_s2_chat_read_as_chat_contact_read() -> None:
    """S2 ``Events.ChatRead {chatId, lastReadAt, byId: string|null}``."""
    payload = {"chatId": CHAT_ID, "lastReadAt": CREATED, "byId": None}
    event = decode_event("chat.contact_read", payload)
    assert event == ChatContactRead(chat_id=CHAT_ID, last_read_at=CREATED)


def test_s4_agent_connected_is_the_full_agent() -> None:
    """S4 ``AgentConnectedEvent {id, status, groups: string[], email, nickname, fullname,
    description, avatar, connectedAt}``."""
    payload = {
        "id": OTHER_AGENT_ID,
        "status": "online",
        "groups": ["default"],
        "email": "eva@example.com",
        "nickname": "eva",
        "fullname": "Eva Novak",
        "description": "Support",
        "avatar": None,
        "connectedAt": CREATED,
    }
    event = decode_event("agent.connected", payload)
    assert isinstance(event, AgentConnected)
    assert (event.id, event.status, event.groups, event.connected_at) == (
        OTHER_AGENT_ID,
        "online",
        ("default",),
        CREATED,
    )
    assert event.extra == {}
    assert decode_event("agent.connected", {"id": OTHER_AGENT_ID}) == AgentConnected(
        id=OTHER_AGENT_ID
    )


def test_s4_agent_disconnected() -> None:
    """S4 ``AgentDisconnectedEvent {id}``."""
    event = decode_event("agent.disconnected", {"id": OTHER_AGENT_ID})
    assert event == AgentDisconnected(id=OTHER_AGENT_ID)


def test_s4_agent_updated_changes_keep_the_misspelt_key() -> None:
    """S4 ``{id, changes: {status?, groups?, email?, nickname?, fullname?, descriptin? (sic),
    avatar?}}``."""
    payload = {"id": AGENT_ID, "changes": {"status": "offline", "descriptin": "Away"}}
    event = decode_event("agent.updated", payload)
    assert event == AgentUpdated(id=AGENT_ID, changes=payload["changes"])


def test_s2_server_error() -> None:
    """S2 ``Events.ServerError {message, code?: number, type?, event?}``."""
    payload = {"message": "Too many requests", "code": 429, "type": "rate_limit", "event": "x"}
    event = decode_event("server.error", payload)
    assert isinstance(event, ServerErrorEvent)
    assert (event.code, event.type, event.event) == (429, "rate_limit", "x")


def test_s2_visitor_side_events() -> None:
    """S2 ``Events.ChatAgentTyping``, ``AgentRemoved {id}``, ``AccountUpdated {status?}``."""
    typing = decode_event(
        "chat.agent_typing", {"chatId": CHAT_ID, "typing": {"is": True, "text": None}}
    )
    assert isinstance(typing, ChatAgentTyping)
    assert typing.typing.is_typing
    assert decode_event("agent.removed", {"id": AGENT_ID}).name == "agent.removed"
    assert decode_event("account.updated", {}).name == "account.updated"


UNMODELLED = [
    ("chat.served", {"chatId": CHAT_ID}),
    ("chat.message_updated", {"message": socket_message()}),
    ("chat.message_deleted", {"messageId": MESSAGE_ID}),
    ("agent.status_updated", {"id": AGENT_ID, "status": "offline"}),  # S2 AgentStatusUpdated
    ("chat.rating_suggested", {"chatId": CHAT_ID}),
    ("chat.rating_cancelled", {"chatId": CHAT_ID}),
    ("chat.transcript_pdf", {"chatId": CHAT_ID, "url": "https://example.com/t.pdf"}),
    ("contact.acquired", {"id": CONTACT_ID}),
]


@pytest.mark.parametrize(("name", "payload"), UNMODELLED, ids=[n for n, _ in UNMODELLED])
def test_s3_widget_events_agentbot_does_not_model_stay_unknown(
    name: str, payload: dict[str, Any]
) -> None:
    """The newer visitor client and widget (S3) listen for these; the agent client does not."""
    [event] = decode_events(name, [payload])
    assert event == UnknownEvent(name=name, data=payload)
    assert encode_event(event) == (name, payload)
