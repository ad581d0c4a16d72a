"""Turn the sandbox's rows into the JSON shapes of PROTOCOL.md (camelCase, as on the wire).

This module is the one place in the sandbox that spells the server's payloads. Shapes that
PROTOCOL.md marks **assumed** are marked here too; field names follow the official SDK's
types (smartsupp-websocket ``types.d.ts``). The sandbox's output is decoded by ``agentbot.api``
in tests, so a drift between the two shows up as a failing test rather than a silent mismatch.
"""

from __future__ import annotations

from typing import Any

from agentbot.sandbox.config import SandboxAgent, SandboxConfig
from agentbot.sandbox.state import ChatRecord, MessageRecord, VisitorRecord

__all__ = [
    "account_agent",
    "agent_profile",
    "agent_summary",
    "chat_for_agents",
    "chat_for_visitor",
    "message",
    "visitor_for_agents",
    "visitor_identity",
]


def agent_profile(
    agent: SandboxAgent, *, status: str, connected_at: str | None = None
) -> dict[str, Any]:
    """The ``agent`` object of the ``agent.connect`` reply (seed, PROTOCOL.md §2)."""
    return {
        "id": agent.id,
        "status": status,
        "groups": list(agent.groups),
        "email": agent.email,
        "nickname": agent.nickname,
        "fullname": agent.fullname,
        "description": agent.description,
        "avatar": agent.avatar,
        "connectedAt": connected_at,
        "disabled": False,
    }


def account_agent(agent: SandboxAgent, *, status: str) -> dict[str, Any]:
    """An entry of ``account.agents`` (seed) — also what visitors see of an agent."""
    return {
        "id": agent.id,
        "status": status,
        "nickname": agent.nickname,
        "fullname": agent.fullname,
        "description": agent.description,
        "avatar": agent.avatar,
        "groups": list(agent.groups),
    }


def agent_summary(agent: SandboxAgent, *, status: str) -> dict[str, Any]:
    """The ``agent`` of ``chat.agent_joined``/``_left`` and ``assigned``/``assignedBy`` of
    ``chat.agent_(un)assigned``: S2 ``Agent {id, status, groups, nickname, fullname,
    description, avatar}``."""
    return account_agent(agent, status=status)


def groups(config: SandboxConfig, *, with_status: str | None = None) -> list[dict[str, Any]]:
    """The account's groups ``{key, name}`` (visitors also get a ``status``)."""
    result: list[dict[str, Any]] = []
    for group in config.groups:
        item: dict[str, Any] = {"key": group.key, "name": group.name}
        if with_status is not None:
            item["status"] = with_status
        result.append(item)
    return result


def message(record: MessageRecord) -> dict[str, Any]:
    """A message object (PROTOCOL.md §3 "Shared objects"; SDK ``IMessage``)."""
    return {
        "id": record.id,
        "type": record.type,
        "subType": record.sub_type,
        "chatId": record.chat_id,
        "visitorId": record.visitor_id,
        "agentId": record.agent_id,
        "groupId": record.group_id,
        "channel": {"type": "default", "id": None},
        "trigger": None,
        "createdAt": record.created_at,
        "content": {"type": record.content_type, "text": record.text, "data": record.data},
        "tags": [],
        "responseTime": None,
        "attachments": [],
    }


def visitor_identity(visitor: VisitorRecord) -> dict[str, Any]:
    """The ``visitor`` a visitor's own client gets (SDK ``Visitor``).

    Only the identity fields: the official VisitorClient sends this object back in its next
    ``visitor.connect``, so anything extra here would come back as an unknown request field.
    """
    return {
        "id": visitor.id,
        "chatId": visitor.chat_id,
        "name": visitor.name,
        "email": visitor.email,
        "phone": visitor.phone,
        "lang": visitor.lang,
        "group": visitor.group,
        "bannedAt": None,
        "visits": visitor.visits,
        "variables": dict(visitor.variables),
    }


def visitor_for_agents(visitor: VisitorRecord) -> dict[str, Any]:
    """A visitor as agents see it: the flat object of S4's ``visitor.connected`` example.

    Field order as on that page; ``visitsCount`` (not the visitor side's ``visits``) and the
    other counts, ``status``, ``servedBy``, ``loc*`` as the agent side has them. The sandbox
    knows no location, user agent or contact, so those are null; ``phone``, ``group``,
    ``pageTitle`` and ``variables`` (S1 ``visitor``, S2) follow.
    """
    return {
        "id": visitor.id,
        "persisted": True,
        "status": "active",
        "chatId": visitor.chat_id,
        "contactId": None,
        "createdAt": visitor.created_at,
        "connectedAt": visitor.created_at,
        "lang": visitor.lang,
        "name": visitor.name,
        "email": visitor.email,
        "note": None,
        "bannedAt": None,
        "domain": visitor.domain,
        "pageUrl": visitor.page_url,
        "referer": visitor.referer,
        "locIp": None,
        "locCode": None,
        "locCountry": None,
        "locCity": None,
        "viewsCount": visitor.visits,
        "chatsCount": 1 if visitor.chat_id else 0,
        "visitsCount": visitor.visits,
        "servedBy": [],
        "userAgent": None,
        "browser": None,
        "phone": visitor.phone,
        "group": visitor.group,
        "pageTitle": visitor.page_title,
        "variables": dict(visitor.variables),
    }


def visitor_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Map snake_case visitor changes to wire names for ``visitor.updated``."""
    names = {"page_url": "pageUrl", "page_title": "pageTitle", "bundle_version": "bundleVersion"}
    return {names.get(key, key): value for key, value in changes.items()}


def chat_for_agents(chat: ChatRecord) -> dict[str, Any]:
    """The ``chat`` of ``chat.opened`` (**assumed**, PROTOCOL.md §3)."""
    return {
        "id": chat.id,
        "visitorId": chat.visitor_id,
        "status": chat.status,
        "assignedIds": list(chat.assigned_ids),
        "groupId": chat.group_id,
        "createdAt": chat.created_at,
        "messages": [message(m) for m in chat.messages],
    }


def rating(chat: ChatRecord) -> dict[str, Any] | None:
    """The chat's rating ``{value, text}``, or None."""
    if chat.rating is None:
        return None
    value, text = chat.rating
    return {"value": value, "text": text}


def chat_for_visitor(chat: ChatRecord) -> dict[str, Any]:
    """The ``chat`` of the ``visitor.connect`` reply (PROTOCOL.md §4)."""
    return {
        "id": chat.id,
        "assignedIds": list(chat.assigned_ids),
        "rating": rating(chat),
        "status": chat.status,
        "readInfo": {"type": "visitor", "lastReadAt": chat.visitor_read_at},
        "unreadInfo": {"type": "agent", "count": 0, "lastReadAt": None},
        "messages": [message(m) for m in chat.messages],
    }


def chat_summary(chat: ChatRecord) -> dict[str, Any]:
    """A chat for the control API: the agents' view plus close and rating data."""
    return {
        **chat_for_agents(chat),
        "closeType": chat.close_type,
        "closedAt": chat.closed_at,
        "rating": rating(chat),
    }
