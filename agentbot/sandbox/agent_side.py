"""Requests an agent connection may send (PROTOCOL.md §2), answered like Smartsupp would.

``agent.connect`` must come first and be sent again on every new connection; anything else
before it is an ``auth_error`` (code 403). Requests are decoded strictly by ``agentbot.api``,
so a malformed payload from our own client fails loudly in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentbot.api import (
    AGENT_REQUESTS,
    AgentConnect,
    AgentLogout,
    ChatMessage,
    ChatTyping,
    TrackVisitors,
    VisitorGet,
    decode_request,
)
from agentbot.errors import AuthFailure
from agentbot.sandbox import wire
from agentbot.sandbox.replies import NO_REPLY, not_authenticated, not_found, unknown_request
from agentbot.sandbox.state import ChatRecord

if TYPE_CHECKING:
    from agentbot.sandbox.connections import SandboxConnection
    from agentbot.sandbox.hub import Sandbox

__all__ = ["AUTH_FAILURE_MESSAGE", "handle"]

logger = logging.getLogger(__name__)

AUTH_FAILURE_MESSAGE = "Auth token is invalid"
"""The seed's error message for a failed ``agent.connect``, whatever was wrong."""


def handle(hub: Sandbox, conn: SandboxConnection, name: str, args: Sequence[Any]) -> Any:
    """Answer one agent request; return the reply value (or NO_REPLY), raise ApiError."""
    if name not in AGENT_REQUESTS:
        raise unknown_request(name)
    if name != "agent.connect" and not conn.authenticated:
        raise not_authenticated(name)
    if name == "agent.logout" and conn.logged_out:
        raise not_found("Agent", name)
    if name not in ("agent.connect", "agent.logout") and conn.logged_out:
        raise not_authenticated(name)
    request = decode_request(name, list(args), side="agent")
    if isinstance(request, AgentConnect):
        return _connect(hub, conn, request)
    if isinstance(request, AgentLogout):
        conn.logged_out = True
        hub.agent_presence_changed()
        return True
    if isinstance(request, TrackVisitors):
        conn.track_visitors = request.enabled
        return NO_REPLY
    assert conn.agent_id is not None  # authenticated above
    if isinstance(request, ChatTyping):
        chat = _chat(hub, request.chat_id, request.visitor_id, name)
        hub.agent_typing(chat, conn.agent_id, request.is_typing, origin=conn)
        return NO_REPLY
    if isinstance(request, ChatMessage):
        chat = _chat(hub, request.chat_id, request.visitor_id, name)
        return wire.message(hub.agent_message(chat, conn.agent_id, request.text))
    if isinstance(request, VisitorGet):
        visitor = hub.state.visitors.get(request.id)
        if visitor is None:
            raise not_found("Visitor", name)
        return wire.visitor_for_agents(visitor)
    raise unknown_request(name)  # a request class added to api/ but not handled here yet


def _connect(hub: Sandbox, conn: SandboxConnection, request: AgentConnect) -> dict[str, Any]:
    agent = hub.config.agent(request.id)
    token = request.auth_token if request.auth_token is not None else request.authtoken
    if agent is None or request.key != hub.config.account_key or token != agent.auth_token:
        logger.info("connection %s: agent.connect refused for agent %r", conn.id, request.id)
        raise AuthFailure(AUTH_FAILURE_MESSAGE, type="auth_failure", event="agent.connect")
    conn.agent_id = agent.id
    conn.authenticated = True
    conn.logged_out = False
    # Per connection, starting from the request's value, false when absent (§2).
    conn.track_visitors = bool(request.track_visitors)
    if agent.id in hub.faults.silent_agents:
        conn.set_heartbeat_stopped(True)
    logger.info("connection %s: agent %s logged in", conn.id, agent.id)
    hub.agent_presence_changed()
    config = hub.config
    return {
        "serverVersion": config.server_version,
        "agent": wire.agent_profile(agent, status="online", connected_at=hub.state.now_iso()),
        "account": {
            "agents": [wire.account_agent(a, status=hub.agent_status(a.id)) for a in config.agents],
            "groups": wire.groups(config),
        },
    }


def _chat(hub: Sandbox, chat_id: str, visitor_id: str, name: str) -> ChatRecord:
    chat = hub.state.chats.get(chat_id)
    if chat is None or chat.visitor_id != visitor_id:
        raise not_found("Chat", name)
    return chat
