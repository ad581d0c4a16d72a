"""agentbot: chat-automation bots for Smartsupp live chat.

Plugins, examples and docs use only the names re-exported here (and ``agentbot.testing`` in
tests); everything else is internal.
"""

from __future__ import annotations

from agentbot.__about__ import __version__
from agentbot.api import (
    AccountAgent,
    Agent,
    AgentConnectReply,
    Chat,
    Message,
    Rating,
    ServerEvent,
    Visitor,
)
from agentbot.errors import (
    AgentbotError,
    ApiError,
    AuthFailure,
    ConfigError,
    ConnectionLost,
    DecodeError,
    LocalProtocolError,
    NotAuthenticated,
    NotFound,
    PluginError,
    ProtocolError,
    RemoteProtocolError,
    RequestTimeout,
)
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.hookspecs import hookimpl
from agentbot.runtime.identifiers import Identifier, extract_identifiers, mask_identifiers
from agentbot.runtime.replies import Reply
from agentbot.runtime.storage import KeyValueStore

__all__ = [
    "AccountAgent",
    "Agent",
    "AgentConnectReply",
    "AgentbotError",
    "ApiError",
    "AuthFailure",
    "Chat",
    "ConfigError",
    "ConnectionLost",
    "DecodeError",
    "Identifier",
    "KeyValueStore",
    "LocalProtocolError",
    "Message",
    "NotAuthenticated",
    "NotFound",
    "PluginBot",
    "PluginError",
    "ProtocolError",
    "Rating",
    "RemoteProtocolError",
    "Reply",
    "RequestTimeout",
    "ServerEvent",
    "Visitor",
    "__version__",
    "extract_identifiers",
    "hookimpl",
    "mask_identifiers",
]
