"""The runtime facilities the built-in plugins use, in one place.

Background tasks, the runtime clock and wall time are ``PluginBot`` methods. Visitor
lookup, undoing a hand-off and bot.toml's folder were requested from the runtime (project
notes, "REQUESTS from the plugins engineer"): each is used when the runtime offers it, with
the documented fallback otherwise, so the plugins keep working — with less — until then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agentbot import PluginBot, Visitor

__all__ = [
    "can_resume",
    "config_dir",
    "now",
    "resume",
    "sleep_until",
    "start_soon",
    "visitor",
    "wall_time",
]


def start_soon(bot: PluginBot, fn: Callable[..., Awaitable[Any]], *args: Any, name: str) -> None:
    """Run ``fn(*args)`` in the bot's task group for the rest of the run."""
    bot.start_soon(fn, *args, name=name)


def now(bot: PluginBot) -> float:
    """The runtime clock's monotonic now (virtual in tests)."""
    return bot.now()


async def sleep_until(bot: PluginBot, deadline: float) -> None:
    """Sleep on the runtime clock."""
    await bot.sleep_until(deadline)


def wall_time(bot: PluginBot) -> float:
    """Epoch seconds from the runtime (virtual in tests)."""
    return bot.wall_time()


async def visitor(bot: PluginBot, visitor_id: str | None) -> Visitor | None:
    """The visitor's latest details from the runtime (request 4), else None."""
    lookup = getattr(bot, "visitor", None)
    if lookup is None or not visitor_id:
        return None
    found = await lookup(visitor_id)
    return found if isinstance(found, Visitor) else None


def config_dir(bot: PluginBot) -> Path | None:
    """The folder of bot.toml, for plugin paths relative to it (request 10), else None."""
    folder = getattr(bot, "config_dir", None)
    return folder if isinstance(folder, Path) else None


def can_resume(bot: PluginBot) -> bool:
    """Whether the runtime can undo a hand-off (request 5)."""
    return hasattr(bot, "resume")


def resume(bot: PluginBot, chat_id: str) -> bool:
    """Let the bot speak in a handed-off chat again (request 5); False if it cannot."""
    resumer = getattr(bot, "resume", None)
    return bool(resumer(chat_id)) if resumer is not None else False
