"""The bot runtime: plugins, chat actors, pacing, storage and configuration.

See DESIGN.md (runtime) for the map. ``agentbot/__init__.py`` imports the light parts
(``hookimpl``, ``Reply``, ``PluginBot``) from here, so the names that pull in the network
client (``Bot`` and the launcher functions) are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentbot.runtime.clock import Clock, RealClock, VirtualClock
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.hookspecs import hookimpl
from agentbot.runtime.pacing import PacingSettings, plan_reply
from agentbot.runtime.replies import Reply
from agentbot.runtime.storage import KeyValueStore, Storage

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.launcher import check_bot, run_until_signalled

__all__ = [
    "Bot",
    "BotConfig",
    "Clock",
    "KeyValueStore",
    "PacingSettings",
    "PluginBot",
    "RealClock",
    "Reply",
    "Storage",
    "VirtualClock",
    "check_bot",
    "hookimpl",
    "load_config",
    "plan_reply",
    "run_until_signalled",
]

_LAZY = {
    "Bot": "agentbot.runtime.bot",
    "check_bot": "agentbot.runtime.launcher",
    "run_until_signalled": "agentbot.runtime.launcher",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
