"""The vendor seed's request and reply examples, verbatim (PROTOCOL.md §2's source).

Each constant is the example's text exactly as the vendor's docs print it; the golden tests
in ``test_golden.py`` turn them into full wire frames. The docs print them as JSON arrays
``[name, payload]`` (requests) and ``[error, result]`` (replies).
"""

from __future__ import annotations

import json
import re
from typing import Any

AGENT_CONNECT_REQUEST = """["agent.connect", {
"version": 5,
"id": "345111",
"key": "d57ad424c173ea4541bef97b766c168a83042788",
"authToken": "6d267d6cd580a4c01afbb2f0b565ab7d",
"authtoken": "33aab1d14b37a28237d61ec166d8ebb1",
"deviceToken": null,
"deviceType": null,
"devicePlatform": null,
"trackVisitors": false,
"bundleVersion": "iOS (2.1.0)"
}]"""

AGENT_CONNECT_SUCCESS_REPLY = """[null, {
"serverVersion": 3,
"agent": {
"id": "345111",
"status": "online",
"groups": [],
"email": "dusan@smartsupp.com",
"nickname": "morlok",
"fullname": "Dusan Kmet",
"description": "I am awesome!",
"avatar": "https://files.smartsuppcdn.com/files/agents/63jdada.png",
"connectedAt": "2019-10-04T14:03:21.877Z",
"disabled": false
},
"account": {
"agents": [
{
"id": "345111",
"status": "online",
"nickname": "morlok",
"fullname": "Dusan Kmet",
"description": "I am awesome!",
"avatar": "https://files.smartsuppcdn.com/files/agents/63jdada.png",
"groups": [],
},
{
"id": "325144",
"status": "offline",
"nickname": "sandy",
"fullname": "Vladimir Sandera",
"description": "I have vision!",
"avatar": "https://files.smartsuppcdn.com/files/agents/jkd09wks.png",
"groups": []
}
],
"groups": [
{
"key": "g67soJw02",
"name": "Support"
},
{
"key": "p0d4uHoa",
"name": "Invoices"
}
]
}
}]"""

AGENT_CONNECT_ERROR_REPLY = """[{
"message": "Auth token is invalid",
"event": "agent.connect",
"type": "auth_failure"
}, null]"""

AGENT_LOGOUT_REQUEST = """["agent.logout", {
"devicePlatform": "ios",
"deviceToken": "token"
}]"""

AGENT_LOGOUT_SUCCESS_REPLY = """[null, true]"""

AGENT_LOGOUT_ERROR_REPLY = """[{
"message": "Agent not found",
"event": "agent.logout",
"type": "not_found"
}, null]"""

AGENT_TRACK_VISITORS_REQUEST = """["agent.track_visitors", true]"""

CHAT_TYPING_REQUEST = """["chat.typing", {
"chatId": "co2wgLaNKxtOe",
"visitorId": "viJqfKK4RIOh",
"typing": {
"is": true
}
}]"""


def load(text: str) -> Any:
    """Parse a seed example as JSON.

    The vendor's ``agent.connect`` success reply has a trailing comma after the first
    account agent's ``"groups": []`` (a JavaScript object literal, not JSON): it is the only
    repair made, and only where a comma directly precedes a closing bracket.
    """
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
