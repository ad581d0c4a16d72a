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
from agentbot.client import MessagePage
from agentbot.errors import (
    ActionUnsupported,
    AgentbotError,
    ApiError,
    AuthFailure,
    ConfigError,
    ConnectionLost,
    DecodeError,
    LocalProtocolError,
    NotAuthenticated,
    NotFound,
    OutcomeUnknown,
    PluginError,
    ProtocolError,
    RemoteProtocolError,
    RequestTimeout,
    RestAuthError,
    RestError,
)
from agentbot.runtime.commands import CommandTools
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.hookspecs import hookimpl
from agentbot.runtime.identifiers import Identifier, extract_identifiers, mask_identifiers
from agentbot.runtime.replies import Reply
from agentbot.runtime.storage import KeyValueStore

__all__ = [
    "AccountAgent",
    "ActionUnsupported",
    "Agent",
    "AgentConnectReply",
    "AgentbotError",
    "ApiError",
    "AuthFailure",
    "Chat",
    "CommandTools",
    "ConfigError",
    "ConnectionLost",
    "DecodeError",
    "Identifier",
    "KeyValueStore",
    "LocalProtocolError",
    "Message",
    "MessagePage",
    "NotAuthenticated",
    "NotFound",
    "OutcomeUnknown",
    "PluginBot",
    "PluginError",
    "ProtocolError",
    "Rating",
    "RemoteProtocolError",
    "Reply",
    "RequestTimeout",
    "RestAuthError",
    "RestError",
    "ServerEvent",
    "Visitor",
    "__version__",
    "extract_identifiers",
    "hookimpl",
    "mask_identifiers",
]
