"""Count what happens in the chats: a plugin that listens to every hook and never speaks.

Support teams want numbers — how many chats, how many a human took over, the average
rating, how often the link dropped. This plugin keeps them as counters in ``bot.storage``
(so they survive restarts) and answers nothing: every hook here returns None.

Each hook below is deliberately small: they double as the examples of docs/hooks.md.
Counters are storage keys ``"count:<what>"``; :func:`read_metrics` collects them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import agentbot


def bump(bot: agentbot.PluginBot, what: str, by: int = 1) -> None:
    """Add ``by`` to the counter ``what``."""
    key = f"count:{what}"
    bot.storage.set(key, bot.storage.get(key, 0) + by)


def read_metrics(store: Any) -> dict[str, int]:
    """Return every counter in a plugin store, without the ``count:`` prefix."""
    return {key.removeprefix("count:"): store.get(key) for key in store.keys("count:")}


@agentbot.hookimpl
def on_connected(bot: agentbot.PluginBot, reconnect: bool) -> None:
    bump(bot, "reconnects" if reconnect else "sessions")
    bot.logger.info("connected; humans online: %s", ", ".join(bot.humans_online()) or "none")


@agentbot.hookimpl
def on_disconnected(bot: agentbot.PluginBot, reason: str) -> None:
    bump(bot, "disconnects")
    bot.storage.set("last_disconnect_reason", reason)


@agentbot.hookimpl
def on_event(bot: agentbot.PluginBot, event: agentbot.ServerEvent) -> None:
    bump(bot, f"event.{type(event).__name__}")


@agentbot.hookimpl
def on_chat_closed(bot: agentbot.PluginBot, close_type: str | None) -> None:
    bump(bot, f"chats_closed.{close_type or 'unknown'}")


@agentbot.hookimpl
def on_visitor_typing(bot: agentbot.PluginBot, is_typing: bool) -> None:
    if is_typing:
        bump(bot, "visitor_typing")


@agentbot.hookimpl
def on_chat_rated(bot: agentbot.PluginBot, rating: agentbot.Rating) -> None:
    bump(bot, "ratings")
    bump(bot, "rating_points", rating.value)


@agentbot.hookimpl
def on_agent_joined(bot: agentbot.PluginBot, chat_id: str, agent: agentbot.Agent) -> None:
    bump(bot, "human_joined")
    bot.logger.info("chat %s: %s took over", chat_id, agent.nickname or agent.id)


@agentbot.hookimpl
def on_agent_left(bot: agentbot.PluginBot) -> None:
    bump(bot, "human_left")


@agentbot.hookimpl
def on_agent_assigned(bot: agentbot.PluginBot, agent_ids: tuple[str, ...]) -> None:
    if any(agent_id != bot.agent_id for agent_id in agent_ids):
        bump(bot, "assigned_to_human")


@agentbot.hookimpl
def on_visitor_updated(bot: agentbot.PluginBot, changes: Mapping[str, Any]) -> None:
    if "pageUrl" in changes:
        bump(bot, "page_views")


@agentbot.hookimpl
def on_server_error(bot: agentbot.PluginBot, error: agentbot.ApiError) -> None:
    bump(bot, f"server_error.{error.type or 'unknown'}")
