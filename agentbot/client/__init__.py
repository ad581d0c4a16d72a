"""The Smartsupp agent client: anyio + httpx-ws, the only package that imports httpx.

See :class:`AgentClient`.
"""

from __future__ import annotations

from agentbot.client.agent_client import (
    DEFAULT_EVENT_BUFFER,
    DEFAULT_URL,
    AgentClient,
    EventStream,
)
from agentbot.client.backoff import Backoff, ReconnectPolicy
from agentbot.client.events import ConnectionDropped, Reconnected
from agentbot.client.rest import (
    API_AUTH_SCHEMES,
    DEFAULT_API_URL,
    DEFAULT_REST_TIMEOUT_SECONDS,
    AuthScheme,
    ConversationPage,
    MessagePage,
    RestApi,
)

__all__ = [
    "API_AUTH_SCHEMES",
    "DEFAULT_API_URL",
    "DEFAULT_EVENT_BUFFER",
    "DEFAULT_REST_TIMEOUT_SECONDS",
    "DEFAULT_URL",
    "AgentClient",
    "AuthScheme",
    "Backoff",
    "ConnectionDropped",
    "ConversationPage",
    "EventStream",
    "MessagePage",
    "ReconnectPolicy",
    "Reconnected",
    "RestApi",
]
