"""One wire payload per server event, shaped as PROTOCOL.md §3-§4 describe it.

Lists are written out even when empty, as the seed's ``agent.connect`` reply does: the
encoder always writes list fields, so these payloads encode back to the same text.

Shared by the golden tests and the malformed-payload tests. Each payload is the form agentbot
encodes (where a source shows two spellings, the golden tests in test_vendor_shapes.py check
the other one); payloads for events no source shows follow the guesses in
``agentbot/api/assumed.py``.
"""

from __future__ import annotations

from typing import Any

CHAT_ID = "co2wgLaNKxtOe"
VISITOR_ID = "viJqfKK4RIOh"
AGENT_ID = "345111"

CONTACT_MESSAGE: dict[str, Any] = {
    "id": "m1aB3",
    "type": "message",
    "subType": "contact",
    "chatId": CHAT_ID,
    "visitorId": VISITOR_ID,
    "channel": "default",
    "createdAt": "2019-10-04T14:03:21.877Z",
    "content": {"type": "text", "text": "Hello, do you ship to Prague?"},
    "attachments": [],
    "tags": [],
}
AGENT_MESSAGE: dict[str, Any] = {
    "id": "m2cD4",
    "type": "message",
    "subType": "agent",
    "chatId": CHAT_ID,
    "visitorId": VISITOR_ID,
    "agentId": AGENT_ID,
    "groupId": "g67soJw02",
    "createdAt": "2019-10-04T14:03:25.001Z",
    "content": {"type": "text", "text": "Yes, we do."},
    "attachments": [],
    "tags": ["shipping"],
}
EVENT_MESSAGE: dict[str, Any] = {
    "id": "m3eF5",
    "type": "event",
    "subType": "system",
    "chatId": CHAT_ID,
    "visitorId": VISITOR_ID,
    "createdAt": "2019-10-04T14:03:26.000Z",
    "content": {"type": "agent_join", "data": {"agentId": AGENT_ID}},
    "attachments": [],
    "tags": [],
}
AGENT: dict[str, Any] = {
    "id": AGENT_ID,
    "status": "online",
    "groups": [],
    "email": "dusan@smartsupp.com",
    "nickname": "morlok",
    "fullname": "Dusan Kmet",
    "description": "I am awesome!",
    "avatar": "https://files.smartsuppcdn.com/files/agents/63jdada.png",
    "connectedAt": "2019-10-04T14:03:21.877Z",
    "disabled": False,
}
AGENT_SIDE_VISITOR: dict[str, Any] = {
    # S4 events.html, visitor.connected: the flat visitor object (nulls left off, as agentbot
    # writes them; test_vendor_shapes.py decodes the page's own field list).
    "id": VISITOR_ID,
    "lang": "cs",
    "variables": {},
    "pageUrl": "https://shop.example.com/cart",
    "status": "active",
    "createdAt": "2019-10-04T14:01:02.000Z",
    "connectedAt": "2019-10-04T14:01:02.500Z",
    "domain": "shop.example.com",
    "locIp": "192.0.2.10",
    "locCode": "CZ",
    "locCountry": "Czechia",
    "locCity": "Prague",
    "userAgent": "Mozilla/5.0",
    "visitsCount": 3,
    "viewsCount": 7,
    "chatsCount": 1,
    "servedBy": [],
    "persisted": True,
    "browser": "Firefox",
}
VISITOR: dict[str, Any] = {
    # S4 events.html, visitor.connected: the flat visitor object, fields in the page's order.
    "id": VISITOR_ID,
    "chatId": None,
    "name": None,
    "email": None,
    "lang": "cs",
    "bannedAt": None,
    "variables": {},
    "pageUrl": "https://shop.example.com/cart",
    "referer": None,
    "status": "active",
    "contactId": None,
    "createdAt": "2019-10-04T14:01:02.000Z",
    "connectedAt": "2019-10-04T14:01:02.500Z",
    "domain": "shop.example.com",
    "locIp": "192.0.2.10",
    "locCode": "CZ",
    "locCountry": "Czechia",
    "locCity": "Prague",
    "userAgent": "Mozilla/5.0",
    "visitsCount": 3,
    "viewsCount": 7,
    "chatsCount": 1,
    "servedBy": [],
    "persisted": True,
    "note": None,
    "browser": "Firefox",
}
VISITOR: dict[str, Any] = {
    "id": VISITOR_ID,
    "chatId": CHAT_ID,
    "name": "Jana",
    "email": "jana@example.com",
    "lang": "cs",
    "visits": 3,
    "variables": {"plan": "pro"},
    "pageUrl": "https://shop.example.com/cart",
    "pageTitle": "Cart",
    "referer": "https://www.example.com/",
}
CHAT: dict[str, Any] = {
    "id": CHAT_ID,
    "visitorId": VISITOR_ID,
    "status": "pending",
    "assignedIds": [],
    "groupId": "g67soJw02",
    "createdAt": "2019-10-04T14:03:21.877Z",
    "messages": [CONTACT_MESSAGE],
    "agentIds": [],
    "tags": [],
}

EVENTS: dict[str, dict[str, Any]] = {
    "chat.message_received": {"chatId": CHAT_ID, "message": CONTACT_MESSAGE},
    "chat.opened": {"chatId": CHAT_ID, "chat": CHAT},
    "chat.closed": {"chatId": CHAT_ID, "closeType": "visitor_close", "message": EVENT_MESSAGE},
    "chat.updated": {"chatId": CHAT_ID, "changes": {"status": "open"}},
    "chat.deleted": {"chatId": CHAT_ID},
    "chat.visitor_closed": {"chatId": CHAT_ID, "message": EVENT_MESSAGE},
    "chat.visitor_typing": {
        "chatId": CHAT_ID,
        "visitorId": VISITOR_ID,
        "typing": {"is": True, "text": "Hello, do"},
    },
    "chat.agent_typing": {"chatId": CHAT_ID, "typing": {"is": True, "text": None}},
    "chat.rated": {
        "chatId": CHAT_ID,
        "rating": {"value": 5, "text": "Quick and kind"},
        "message": EVENT_MESSAGE,
    },
    "chat.agent_joined": {"chatId": CHAT_ID, "agent": AGENT, "message": EVENT_MESSAGE},
    "chat.agent_left": {"chatId": CHAT_ID, "agent": AGENT, "message": EVENT_MESSAGE},
    "chat.agent_assigned": {
        "chatId": CHAT_ID,
        "assigned": AGENT_ID,
        "assignedBy": "325144",
        "message": EVENT_MESSAGE,
    },
    "chat.agent_unassigned": {
        "chatId": CHAT_ID,
        "unassigned": [AGENT_ID],
        "unassignedBy": {"id": "325144"},
        "message": EVENT_MESSAGE,
    },
    "chat.agent_read": {"chatId": CHAT_ID, "lastReadMessageId": "m1aB3"},
    "chat.contact_read": {
        "chatId": CHAT_ID,
        "lastReadAt": "2019-10-04T14:03:30.000Z",
        "byId": VISITOR_ID,
    },
    "chat.agent_unread": {"chatId": CHAT_ID},
    "chat.message_delivered": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "chat.message_delivery_failed": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "chat.message_seen": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "agent.connected": {
        "id": "325144",
        "status": "online",
        "groups": ["g67soJw02"],
        "email": "eva@example.com",
        "nickname": "eva",
        "fullname": "Eva Novak",
        "description": "Support",
        "connectedAt": "2019-10-04T14:00:00.000Z",
    },
    "agent.disconnected": {"id": "325144"},
    "agent.updated": {"id": AGENT_ID, "changes": {"status": "offline"}},
    "agent.removed": {"id": "325144"},
    "agent.feature_usage_changed": {"feature": "chatbot", "used": 3},
    "visitor.connected": AGENT_SIDE_VISITOR,
    "visitor.disconnected": {"id": VISITOR_ID},
    "visitor.updated": {"id": VISITOR_ID, "changes": {"email": "jana@example.com"}},
    "contact.updated": {"id": "ct1", "changes": {"name": "Jana N."}},
    "account.updated": {"status": "online"},
    "account.package_changed": {"package": "standard"},
    "account.datalayer_changed": {},
    "account.feature_usage_changed": {"feature": "chatbot"},
    "server.error": {"message": "Too many requests", "code": 429, "type": "rate_limit"},
    "logout": {"reason": "another_login"},
}
"""Wire event name → a valid payload for it."""
