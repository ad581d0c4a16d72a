"""Everything the sandbox sends decodes with agentbot.api into known, well-formed types.

The sandbox spells its payloads itself (agentbot/sandbox/wire.py) and the client decodes
them with agentbot.api: this test is where a drift between the two shows up.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from agentbot.api import (
    AgentConnect,
    AgentLogout,
    ChatMessage,
    MalformedEvent,
    UnknownEvent,
    VisitorChatMessage,
    VisitorConnect,
    VisitorGet,
    decode_events,
    decode_reply,
)

from .rawclient import control_of, raw_socket

TEXT = {"type": "text", "text": "hello"}


async def test_every_event_and_reply_decodes(app: Starlette, client: httpx.AsyncClient) -> None:
    control = control_of(app)
    replies: list[tuple[object, list[object]]] = []
    async with raw_socket(client) as agent, raw_socket(client) as visitor:
        replies.append(
            (
                AgentConnect(id="bot-1", key="k", auth_token="t"),
                await agent.login(track_visitors=True),
            )
        )
        reply = await visitor.visitor_login(name="Vera", pageUrl="https://shop/")
        replies.append((VisitorConnect(key="k"), reply))
        visitor_id = reply[1]["visitor"]["id"]
        reply = await visitor.request("chat.message", {"content": TEXT})
        replies.append((VisitorChatMessage(text="hello"), reply))
        chat_id = reply[1]["chatId"]
        await visitor.emit("chat.typing", {"typing": {"is": True, "text": None}})
        await visitor.emit("chat.read", None)
        await visitor.emit("visitor.update", {"values": {"email": "vera@example.com"}})
        ids = {"chatId": chat_id, "visitorId": visitor_id}
        await agent.emit("chat.typing", {**ids, "typing": {"is": True}})
        reply = await agent.request("chat.message", {**ids, "content": TEXT})
        replies.append((ChatMessage(chat_id=chat_id, visitor_id=visitor_id, text="x"), reply))
        replies.append(
            (VisitorGet(id=visitor_id), await agent.request("visitor.get", {"id": visitor_id}))
        )
        control.agent_join(chat_id)
        control.agent_typing(chat_id, True)
        control.agent_message(chat_id, "a human")
        control.agent_leave(chat_id)
        control.server_error(message="boom", code=500, type="internal")
        await visitor.request("chat.close", None)
        await visitor.request("chat.rate", {"messageId": reply[1]["id"], "value": 4, "text": "ok"})
        control.logout(agent_id="bot-1")
        replies.append((AgentLogout(), await agent.request("agent.logout", {})))

    for request, args in replies:
        decode_reply(request, args)  # raises on a shape the client would not accept

    for conn in control.connections()["connections"]:
        events = control.events(conn["id"])["events"]
        assert events, conn
        for recorded in events:
            if conn["side"] == "visitor" and recorded["name"] in (
                "chat.agent_typing",
                "account.updated",
            ):
                continue  # visitor-only events are not part of the agent vocabulary
            for event in decode_events(recorded["name"], recorded["args"]):
                assert not isinstance(event, UnknownEvent | MalformedEvent), (recorded, event)
