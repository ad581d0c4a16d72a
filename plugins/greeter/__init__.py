"""The ``greeter`` plugin: greet each chat once, by name when known, in the visitor's language.

* When: on the visitor's first message (``on = "first_message"``, the default: the greeting
  is a candidate reply with ``confidence``, so a confident FAQ answer to a first message
  that is already a question wins), or as soon as the chat opens (``on = "chat_opened"``).
* What: the first template of the visitor's language that renders completely
  (``{first_name}`` etc., see ``agentbot_plugins._shared.templates``): no "Hi None".
* Returning visitors (greeted in an earlier chat, or with more than one visit) get
  ``returning`` templates when there are some for their language.
* Never in a chat a human already joined or was assigned (human first), never twice in an
  open chat, even across restarts (a chat that closed and reopens is greeted as returning).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from agentbot import Chat, Message, PluginBot, Reply, Visitor, hookimpl

from .._shared.lang import base_lang
from .._shared.templates import render_first, visitor_fields

__all__ = ["Greeter", "GreeterConfig", "choose_greeting"]

Templates = dict[str, str | list[str]]


def _unit(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _templates(_instance: object, attribute: attrs.Attribute[Templates], value: Templates) -> None:
    for lang, texts in value.items():
        items = [texts] if isinstance(texts, str) else texts
        if not items or not all(isinstance(t, str) and t.strip() for t in items):
            raise ValueError(f"{attribute.name}.{lang} needs at least one non-empty text")


@attrs.frozen(kw_only=True)
class GreeterConfig:
    """``[plugins.greeter]``: when to greet and with what."""

    on: Literal["first_message", "chat_opened"] = "first_message"
    """Greet on the visitor's first message, or as soon as the chat opens."""
    greetings: Templates = attrs.field(
        factory=lambda: {
            "en": ["Hi {first_name}! How can I help you today?", "Hi! How can I help you today?"],
            "cs": ["Dobrý den! S čím vám mohu pomoci?"],
            "de": ["Hallo {first_name}! Wie kann ich helfen?", "Hallo! Wie kann ich helfen?"],
        },
        validator=_templates,
    )
    """Per language: templates tried in order; the first that renders completely is used."""
    returning: Templates = attrs.field(
        factory=lambda: {
            "en": ["Welcome back, {first_name}! How can I help?", "Welcome back! How can I help?"],
            "cs": ["Vítejte zpět! S čím vám mohu pomoci?"],
            "de": ["Willkommen zurück, {first_name}! Wie kann ich helfen?"],
        },
        validator=_templates,
    )
    """Per language: templates for returning visitors ({} = greet them like anyone)."""
    default_lang: str = "en"
    """Language used when the visitor's is unknown or has no templates."""
    confidence: float = attrs.field(default=0.5, validator=_unit)
    """Confidence of the greeting on a first message (a surer answer wins)."""
    returning_by_visits: bool = True
    """Also count a visitor with ``visits > 1`` as returning (not only earlier chats)."""


def _as_list(texts: str | list[str]) -> list[str]:
    return [texts] if isinstance(texts, str) else list(texts)


def choose_greeting(
    config: GreeterConfig, visitor: Visitor | None, *, returning: bool
) -> str | None:
    """Return the greeting for ``visitor`` (None when no template of any tier renders)."""
    fields = visitor_fields(visitor)
    langs = [base_lang(visitor.lang if visitor else None), base_lang(config.default_lang)]
    tiers = [config.returning, config.greetings] if returning else [config.greetings]
    for tier in tiers:
        for lang in langs:
            if lang and lang in tier:
                text = render_first(_as_list(tier[lang]), fields)
                if text is not None:
                    return text
    return None


class Greeter:
    """Greet once per chat (entry point ``greeter``)."""

    def __init__(self) -> None:
        self._greeted: set[str] = set()

    @hookimpl
    def register_config(self, register: Any) -> None:
        """Declare :class:`GreeterConfig`."""
        register(GreeterConfig)

    def _claim(self, bot: PluginBot, chat_id: str) -> bool:
        """Mark ``chat_id`` greeted; False if it already was (in memory or storage)."""
        key = f"chat:{chat_id}"
        if chat_id in self._greeted or bot.storage.get(key):
            self._greeted.add(chat_id)
            return False
        self._greeted.add(chat_id)
        bot.storage.set(key, True)
        return True

    async def _greeting(self, bot: PluginBot, visitor_id: str | None) -> str | None:
        config: GreeterConfig = bot.config
        visitor = await bot.visitor(visitor_id)
        returning = False
        if visitor_id:
            returning = bool(bot.storage.get(f"visitor:{visitor_id}"))
            bot.storage.set(f"visitor:{visitor_id}", True)
        if visitor is not None and config.returning_by_visits and (visitor.visit_count or 0) > 1:
            returning = True
        return choose_greeting(config, visitor, returning=returning)

    @hookimpl
    async def on_chat_opened(self, bot: PluginBot, chat_id: str, chat: Chat) -> None:
        """With ``on = "chat_opened"``: say the greeting now, unless a human is there."""
        config: GreeterConfig = bot.config
        if config.on != "chat_opened":
            return
        humans = set(chat.assigned_ids) - {bot.agent_id}
        if (
            humans
            or bot.is_quiet(chat_id)
            or any(m.is_from_agent and m.agent_id != bot.agent_id for m in chat.messages)
        ):
            return
        if not self._claim(bot, chat_id):
            return
        text = await self._greeting(bot, chat.visitor_id)
        if text is not None:
            bot.say(chat_id, text)

    @hookimpl
    async def on_visitor_message(
        self, bot: PluginBot, chat_id: str, message: Message
    ) -> Reply | None:
        """With ``on = "first_message"``: propose the greeting for the chat's first message."""
        config: GreeterConfig = bot.config
        if config.on != "first_message" or not self._claim(bot, chat_id):
            return None
        text = await self._greeting(bot, message.visitor_id)
        return Reply(text, confidence=config.confidence) if text is not None else None

    @hookimpl
    def on_chat_closed(self, bot: PluginBot, chat_id: str) -> None:
        """Forget the chat, so storage stays small; if it reopens, it is greeted as returning."""
        self._greeted.discard(chat_id)
        bot.storage.delete(f"chat:{chat_id}")
