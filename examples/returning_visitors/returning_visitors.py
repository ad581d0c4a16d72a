"""Welcome returning visitors back: a plugin that remembers people with ``bot.storage``.

``bot.storage`` is the plugin's own key-value store, kept in the bot's SQLite file across
restarts (values are anything JSON can hold). This plugin keeps one record per visitor::

    "visitor:<id>" → {"name": "Ada", "chats": 2, "greeted_chat": "ch7"}

- ``on_visitor_connected`` notes the visitor's name (the bot sees visitors arrive when
  ``track_visitors = true`` in ``[smartsupp]``);
- ``on_chat_opened`` counts the visitor's chats;
- ``on_visitor_message`` welcomes a visitor back on the first message of their second (or
  later) chat, once per chat — with a low confidence, so a plugin with a real answer to the
  question (an FAQ, say) wins and the welcome never hides an answer.

It is a local file, not a package: bot.toml loads it with ``path = "returning_visitors.py"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

import agentbot


@attrs.frozen(kw_only=True)
class ReturningVisitorsConfig:
    """``[plugins.returning_visitors]``."""

    welcome_back: str = "Welcome back! Good to see you again. How can I help today?"
    welcome_back_named: str = "Welcome back, {name}! Good to see you again. How can I help today?"
    confidence: float = 0.3


def _key(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


@agentbot.hookimpl
def register_config(register: Callable[[type[Any]], None]) -> None:
    register(ReturningVisitorsConfig)


@agentbot.hookimpl
def on_visitor_connected(bot: agentbot.PluginBot, visitor: agentbot.Visitor) -> None:
    if not visitor.name:
        return
    record = bot.storage.get(_key(visitor.id), {"chats": 0})
    if record.get("name") != visitor.name:
        bot.storage.set(_key(visitor.id), {**record, "name": visitor.name})


@agentbot.hookimpl
def on_chat_opened(bot: agentbot.PluginBot, chat_id: str, chat: agentbot.Chat) -> None:
    if chat.visitor_id is None:
        return
    record = bot.storage.get(_key(chat.visitor_id), {"chats": 0})
    bot.storage.set(_key(chat.visitor_id), {**record, "chats": record["chats"] + 1})


@agentbot.hookimpl
def on_visitor_message(
    bot: agentbot.PluginBot, chat_id: str, message: agentbot.Message
) -> agentbot.Reply | None:
    if message.visitor_id is None:
        return None
    record = bot.storage.get(_key(message.visitor_id))
    if record is None or record["chats"] < 2 or record.get("greeted_chat") == chat_id:
        return None
    bot.storage.set(_key(message.visitor_id), {**record, "greeted_chat": chat_id})
    config: ReturningVisitorsConfig = bot.config
    name = record.get("name")
    text = config.welcome_back_named.format(name=name) if name else config.welcome_back
    return agentbot.Reply(text, confidence=config.confidence)
