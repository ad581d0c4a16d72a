"""Requests a website visitor's client may send (PROTOCOL.md §4).

The official ``smartsupp-websocket`` VisitorClient queues its requests until the
``visitor.connect`` reply, and its requests carry no chat or visitor id: the connection knows
them. A visitor is created on its first ``visitor.connect`` (``id: null`` or an unknown id)
and resumed by id afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentbot.api import (
    VISITOR_REQUESTS,
    ChatClose,
    ChatRate,
    ChatRead,
    VisitorChatMessage,
    VisitorChatTyping,
    VisitorConnect,
    VisitorUpdate,
    decode_request,
)
from agentbot.errors import AuthFailure
from agentbot.sandbox import wire
from agentbot.sandbox.replies import NO_REPLY, not_authenticated, not_found, unknown_request
from agentbot.sandbox.state import VisitorRecord

if TYPE_CHECKING:
    from agentbot.sandbox.connections import SandboxConnection
    from agentbot.sandbox.hub import Sandbox

__all__ = ["BAD_ACCOUNT_KEY_MESSAGE", "handle"]

logger = logging.getLogger(__name__)

BAD_ACCOUNT_KEY_MESSAGE = "Account key is invalid"


def handle(hub: Sandbox, conn: SandboxConnection, name: str, args: Sequence[Any]) -> Any:
    """Answer one visitor request; return the reply value (or NO_REPLY), raise ApiError."""
    if name not in VISITOR_REQUESTS:
        raise unknown_request(name)
    if name != "visitor.connect" and not conn.authenticated:
        raise not_authenticated(name)
    request = decode_request(name, args, side="visitor")
    if isinstance(request, VisitorConnect):
        return _connect(hub, conn, request)
    assert conn.visitor_id is not None  # authenticated above
    visitor = hub.state.visitors.get(conn.visitor_id)
    if visitor is None:  # forgotten by a reset while the socket stayed open
        raise not_found("Visitor", name)
    if isinstance(request, VisitorChatMessage):
        message, _chat = hub.visitor_message(visitor, request.text, origin=conn)
        return wire.message(message)
    if isinstance(request, VisitorChatTyping):
        hub.visitor_typing(visitor, request.is_typing, request.text)
        return NO_REPLY
    if isinstance(request, ChatRead):
        hub.visitor_read(visitor)
        return NO_REPLY
    if isinstance(request, ChatClose):
        chat = hub.state.open_chat_of(visitor)
        if chat is None:
            raise not_found("Chat", name)
        hub.close_chat(chat)
        return None
    if isinstance(request, ChatRate):
        rated = hub.state.chats.get(visitor.chat_id) if visitor.chat_id else None
        if rated is None:
            raise not_found("Chat", name)
        hub.rate_chat(rated, value=request.value, text=request.text)
        return None
    if isinstance(request, VisitorUpdate):
        values = {
            key: value
            for key, value in (
                ("name", request.values.name),
                ("email", request.values.email),
                ("phone", request.values.phone),
                ("lang", request.values.lang),
                ("group", request.values.group),
                ("variables", request.values.variables),
            )
            if value is not None
        }
        hub.update_visitor(visitor, values, origin=conn)
        return NO_REPLY
    raise unknown_request(name)  # a request class added to api/ but not handled here yet


def _connect(hub: Sandbox, conn: SandboxConnection, request: VisitorConnect) -> dict[str, Any]:
    if request.key != hub.config.account_key:
        raise AuthFailure(BAD_ACCOUNT_KEY_MESSAGE, type="auth_failure", event="visitor.connect")
    values = {
        key: value
        for key, value in (
            ("name", request.visitor_name),
            ("email", request.email),
            ("phone", request.phone),
            ("lang", request.lang),
            ("group", request.group),
            ("page_url", request.page_url),
            ("page_title", request.page_title),
            ("referer", request.referer),
            ("domain", request.domain),
            ("bundle_version", request.bundle_version),
            ("visits", request.visits),
            ("variables", request.variables),
        )
        if value is not None
    }
    known = hub.state.visitors.get(request.id) if request.id else None
    visitor: VisitorRecord
    if known is None:
        visitor = hub.state.create_visitor(values)
    else:
        visitor = known
        hub.state.update_visitor(visitor, values)
    first_tab = not any(hub.visitor_connections(visitor.id))
    hub.attach_visitor(conn, visitor.id)
    conn.authenticated = True
    logger.info("connection %s: visitor %s connected", conn.id, visitor.id)
    if first_tab:
        hub.to_agents_about(visitor, "visitor.connected", wire.visitor_for_agents(visitor))
    reply: dict[str, Any] = {
        "serverVersion": hub.config.server_version,
        "visitor": wire.visitor_identity(visitor),
        "browser": None,
        "account": {
            "status": hub.account_status(),
            "agents": [
                wire.account_agent(agent, status=hub.agent_status(agent.id))
                for agent in hub.config.agents
            ],
            "groups": wire.groups(hub.config, with_status=hub.account_status()),
        },
    }
    chat = hub.state.open_chat_of(visitor)
    if chat is not None:
        reply["chat"] = wire.chat_for_visitor(chat)
    return reply
