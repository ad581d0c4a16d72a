"""One wire payload per server event, shaped as PROTOCOL.md §3-§4 describe it.

Lists are written out even when empty, as the seed's ``agent.connect`` reply does: the
encoder always writes list fields, so these payloads encode back to the same text.

Shared by the golden tests and the malformed-payload tests. Payloads for events whose shape
PROTOCOL.md does not give follow the guesses in ``agentbot/api/assumed.py``.
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
}

EVENTS: dict[str, dict[str, Any]] = {
    "chat.message_received": {"chatId": CHAT_ID, "message": CONTACT_MESSAGE},
    "chat.opened": {"chat": CHAT},
    "chat.closed": {"chatId": CHAT_ID, "closeType": "visitor_close", "message": EVENT_MESSAGE},
    "chat.updated": {"chatId": CHAT_ID, "changes": {"status": "open"}},
    "chat.deleted": {"chatId": CHAT_ID},
    "chat.visitor_closed": {"chatId": CHAT_ID},
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
    "chat.contact_read": {"chatId": CHAT_ID},
    "chat.agent_unread": {"chatId": CHAT_ID},
    "chat.message_delivered": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "chat.message_delivery_failed": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "chat.message_seen": {"chatId": CHAT_ID, "messageId": "m2cD4"},
    "agent.connected": {"id": "325144"},
    "agent.disconnected": {"id": "325144"},
    "agent.updated": {"id": AGENT_ID, "changes": {"status": "offline"}},
    "agent.removed": {"id": "325144"},
    "agent.feature_usage_changed": {"feature": "chatbot", "used": 3},
    "visitor.connected": {"visitor": VISITOR},
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
