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

__all__ = [
    "DEFAULT_EVENT_BUFFER",
    "DEFAULT_URL",
    "AgentClient",
    "Backoff",
    "ConnectionDropped",
    "EventStream",
    "ReconnectPolicy",
    "Reconnected",
]
