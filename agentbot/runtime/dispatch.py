"""Which hook each event calls, with which arguments: one table, checked by a test.

Why a table: two ``isinstance`` ladders over the same event classes (one changing state, one
calling hooks) drift apart. Here every event class the client can deliver has exactly one row —
the hook it calls after ``on_event`` and a function building that hook's arguments — or is
listed in :data:`ON_EVENT_ONLY` (seen by ``on_event`` alone). ``tests/runtime/test_dispatch.py``
checks that every class of :data:`agentbot.api.EVENT_TYPES` is covered, and that each row's
arguments are exactly the parameters of its hookspec (``bot`` aside).

State changes are not here: they belong to :class:`~agentbot.runtime.chat_state.ChatState`.
``on_visitor_message`` is not here either: a visitor message is answered by the actor, which
asks every plugin for a candidate and picks one (``Bot.choose_answer``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from agentbot.api import (
    AccountDatalayerChanged,
    AccountFeatureUsageChanged,
    AccountPackageChanged,
    AccountUpdated,
    AgentAssigned,
    AgentConnected,
    AgentDisconnected,
    AgentFeatureUsageChanged,
    AgentJoined,
    AgentLeft,
    AgentRemoved,
    AgentUnassigned,
    AgentUpdated,
    ChatAgentRead,
    ChatAgentTyping,
    ChatAgentUnread,
    ChatClosed,
    ChatContactRead,
    ChatDeleted,
    ChatMessageDelivered,
    ChatMessageDeliveryFailed,
    ChatMessageReceived,
    ChatMessageSeen,
    ChatOpened,
    ChatRated,
    ChatUpdated,
    ChatVisitorClosed,
    ChatVisitorTyping,
    ContactUpdated,
    Logout,
    MalformedEvent,
    ServerErrorEvent,
    UnknownEvent,
    VisitorConnected,
    VisitorDisconnected,
    VisitorUpdated,
)
from agentbot.client import ConnectionDropped, Reconnected

__all__ = ["ON_EVENT_ONLY", "ROUTES", "Route", "SessionStarted", "chat_id_of", "route_for"]


@attrs.frozen
class SessionStarted:
    """Internal event: the first session is up (drives ``on_connected(reconnect=False)``)."""

    session: Any


@attrs.frozen
class Route:
    """An event's hook and how to build its arguments.

    ``arguments(event, own_agent_id)`` returns the keyword arguments (``bot`` is added by the
    caller), or None to skip the hook for this event (e.g. the bot's own join).
    """

    hook: str
    arguments: Callable[[Any, str], Mapping[str, Any] | None]
    chat_scoped: bool = True
    """Whether the hook receives ``chat_id`` (added by the caller)."""


def _unless_own(event: Any, own: str) -> Mapping[str, Any] | None:
    return None if event.agent.id == own else {"agent": event.agent, "event": event}


def _closed(close_type: str | None) -> Callable[[Any, str], Mapping[str, Any]]:
    def arguments(event: Any, own: str) -> Mapping[str, Any]:
        kind = getattr(event, "close_type", None) if close_type is None else close_type
        return {"close_type": kind, "event": event}

    return arguments


ROUTES: Mapping[type[Any], Route] = {
    SessionStarted: Route(
        "on_connected",
        lambda e, own: {"session": e.session, "reconnect": False},
        chat_scoped=False,
    ),
    Reconnected: Route(
        "on_connected",
        lambda e, own: {"session": e.session, "reconnect": True},
        chat_scoped=False,
    ),
    ConnectionDropped: Route(
        "on_disconnected", lambda e, own: {"reason": e.reason}, chat_scoped=False
    ),
    ChatOpened: Route("on_chat_opened", lambda e, own: {"chat": e.chat, "event": e}),
    ChatClosed: Route("on_chat_closed", _closed(None)),
    ChatVisitorClosed: Route("on_chat_closed", _closed("visitor_close")),
    ChatDeleted: Route("on_chat_closed", _closed(None)),
    ChatVisitorTyping: Route(
        "on_visitor_typing", lambda e, own: {"is_typing": e.typing.is_typing, "event": e}
    ),
    ChatRated: Route("on_chat_rated", lambda e, own: {"rating": e.rating, "event": e}),
    AgentJoined: Route("on_agent_joined", _unless_own),
    AgentLeft: Route("on_agent_left", _unless_own),
    AgentAssigned: Route(
        "on_agent_assigned", lambda e, own: {"agent_ids": e.assigned_ids, "event": e}
    ),
    VisitorConnected: Route(
        "on_visitor_connected", lambda e, own: {"visitor": e.visitor, "event": e}, chat_scoped=False
    ),
    VisitorUpdated: Route(
        "on_visitor_updated",
        lambda e, own: {"visitor_id": e.id, "changes": e.changes, "event": e},
        chat_scoped=False,
    ),
    ServerErrorEvent: Route(
        "on_server_error", lambda e, own: {"error": e.as_error(), "event": e}, chat_scoped=False
    ),
}
"""Event class → the hook it calls after ``on_event``."""

ON_EVENT_ONLY: frozenset[type[Any]] = frozenset(
    {
        ChatMessageReceived,  # answered by the actor through on_visitor_message
        ChatUpdated,
        ChatAgentTyping,
        AgentUnassigned,
        ChatAgentRead,
        ChatContactRead,
        ChatAgentUnread,
        ChatMessageDelivered,
        ChatMessageDeliveryFailed,
        ChatMessageSeen,
        AgentConnected,
        AgentDisconnected,
        AgentUpdated,
        AgentRemoved,
        AgentFeatureUsageChanged,
        VisitorDisconnected,
        ContactUpdated,
        AccountUpdated,
        AccountPackageChanged,
        AccountDatalayerChanged,
        AccountFeatureUsageChanged,
        Logout,
        UnknownEvent,
        MalformedEvent,
    }
)
"""Event classes no specific hook covers: plugins see them through ``on_event``."""

_CLIENT_EVENTS = (SessionStarted, Reconnected, ConnectionDropped)


def route_for(event: Any) -> Route | None:
    """Return ``event``'s row of :data:`ROUTES`, or None (``on_event`` only)."""
    return ROUTES.get(type(event))


def is_client_event(event: Any) -> bool:
    """Whether ``event`` comes from the client itself (session up, link lost), not the server."""
    return isinstance(event, _CLIENT_EVENTS)


def chat_id_of(event: Any) -> str | None:
    """Return the chat an event belongs to, or None for account-wide events."""
    chat_id = getattr(event, "chat_id", None)
    if isinstance(chat_id, str):
        return chat_id
    if isinstance(event, ChatOpened):
        chat = getattr(event, "chat", None)
        return getattr(chat, "id", None)
    return None
