"""The few runtime facilities the built-in plugins need beyond today's ``PluginBot``.

Each function uses the ``PluginBot`` method requested in the project notes
(runtime_requests.md, "REQUESTS from the plugins engineer") when the runtime offers it, and
otherwise says so or falls back as documented, so the plugins keep working — with less —
on a runtime that does not have it yet. When every request has landed this module becomes
thin wrappers and can go.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from agentbot import PluginBot, Visitor

__all__ = [
    "can_resume",
    "can_run_background",
    "now",
    "resume",
    "sleep_until",
    "start_soon",
    "visitor",
    "wall_time",
]


def can_run_background(bot: PluginBot) -> bool:
    """Whether the runtime runs plugin background tasks (request 1) on its clock (request 2)."""
    return all(hasattr(bot, name) for name in ("start_soon", "now", "sleep_until"))


def start_soon(bot: PluginBot, fn: Callable[..., Awaitable[Any]], *args: Any, name: str) -> bool:
    """Run ``fn(*args)`` in the bot's task group; False if the runtime cannot (request 1)."""
    starter = getattr(bot, "start_soon", None)
    if starter is None:
        return False
    starter(fn, *args, name=name)
    return True


def now(bot: PluginBot) -> float:
    """The runtime clock's monotonic now (request 2), else ``time.monotonic()``."""
    reader = getattr(bot, "now", None)
    return float(reader()) if reader is not None else time.monotonic()


async def sleep_until(bot: PluginBot, deadline: float) -> None:
    """Sleep on the runtime clock (request 2); only ever called when it exists."""
    await bot.sleep_until(deadline)  # type: ignore[attr-defined]


def wall_time(bot: PluginBot) -> float:
    """Epoch seconds from the runtime (request 3; virtual in tests), else ``time.time()``."""
    reader = getattr(bot, "wall_time", None)
    return float(reader()) if reader is not None else time.time()


async def visitor(bot: PluginBot, visitor_id: str | None) -> Visitor | None:
    """The visitor's latest details from the runtime (request 4), else None."""
    lookup = getattr(bot, "visitor", None)
    if lookup is None or not visitor_id:
        return None
    found = await lookup(visitor_id)
    return found if isinstance(found, Visitor) else None


def can_resume(bot: PluginBot) -> bool:
    """Whether the runtime can undo a hand-off (request 5)."""
    return hasattr(bot, "resume")


def resume(bot: PluginBot, chat_id: str) -> bool:
    """Let the bot speak in a handed-off chat again (request 5); False if it cannot."""
    resumer = getattr(bot, "resume", None)
    return bool(resumer(chat_id)) if resumer is not None else False
