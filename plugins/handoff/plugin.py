"""The ``handoff`` plugin: hand a chat to a human when asked; come back if nobody takes it.

1. Triggers: a hand-off phrase in the visitor's message (configurable per language), or a
   streak of ``unanswered_streak`` visitor messages in a row that no plugin answered (the
   runtime's way of saying every candidate was below its confidence bar, or there was none).
2. The hand-off message is honest: one text when a human agent is online right now, another
   when nobody is. The chat is marked handed off (``bot.hand_off``), so the bot stays quiet
   there, and a ``handoff`` notification goes to the webhook (stored first, retried).
3. If no human joins, is assigned or writes within ``wait_seconds`` (``offline_wait_seconds``
   when nobody was online), the bot comes back once, says so and offers to take a message:
   an e-mail address given then is stored as a lead and sent to the webhook.

A phrase hands off at once: it replaces whatever other plugins had for that message. A
streak only proposes the hand-off as a candidate reply (``streak_confidence``), so a plugin
that finally has a good answer still wins; when the runtime sends the proposal, the plugin
sees its own message echoed back and completes the hand-off.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from agentbot import (
    Agent,
    AgentbotError,
    Message,
    PluginBot,
    Reply,
    ServerEvent,
    hookimpl,
)

from .._shared.capture import LeadCapture, LeadOptions
from .._shared.lang import pick
from .._shared.leads import DeliveryLoop, Lead, Outbox, WebhookSender, new_lead_id
from .._shared.templates import render_first, visitor_fields
from .phrases import DEFAULT_PHRASES, PhraseMatcher

__all__ = ["Handoff", "HandoffConfig"]

logger = logging.getLogger(__name__)


def _unit(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class HandoffConfig(LeadOptions):
    """``[plugins.handoff]``: what counts as asking for a human, what to say, how long to wait."""

    phrases: dict[str, list[str]] = attrs.field(factory=lambda: dict(DEFAULT_PHRASES))
    """Per language: phrases that ask for a human. A language given here replaces that
    language's defaults; the other defaults stay."""
    unanswered_streak: int = attrs.field(default=3, validator=_non_negative)
    """Hand off (as a candidate reply) on the Nth visitor message in a row that no plugin
    answered; 0 turns it off."""
    streak_confidence: float = attrs.field(default=0.4, validator=_unit)
    """Confidence of the streak's hand-off proposal (a surer answer still wins)."""
    online_message: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Of course, I'm passing you to a colleague. Someone will be with you shortly.",
            "cs": "Jasně, předávám vás kolegovi. Za chvilku se vám někdo ozve.",
            "de": "Natürlich, ich verbinde Sie mit einem Kollegen. Gleich ist jemand für Sie da.",
        }
    )
    """Per language: the hand-off message while a human agent is online."""
    offline_message: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "I've asked a colleague to take over, but to be honest nobody is online "
            "right now, so it may take a while.",
            "cs": "Požádal jsem kolegu, ať to převezme, ale upřímně: teď nikdo není online, "
            "takže to může chvíli trvat.",
            "de": "Ich habe einen Kollegen gebeten zu übernehmen, aber ehrlich gesagt ist "
            "gerade niemand online; es kann also dauern.",
        }
    )
    """Per language: the hand-off message while no human agent is online."""
    wait_seconds: float = attrs.field(default=180.0, validator=_non_negative)
    """How long a human has to join or write before the bot comes back (someone was online)."""
    offline_wait_seconds: float = attrs.field(default=60.0, validator=_non_negative)
    """The same when nobody was online at hand-off."""
    come_back: bool = True
    """Come back once when nobody took the chat in time."""
    comeback_message: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "I'm sorry, no colleague could join yet.",
            "cs": "Omlouvám se, zatím se nikdo z kolegů nepřipojil.",
            "de": "Es tut mir leid, bisher konnte kein Kollege übernehmen.",
        }
    )
    """Per language: what the bot says when it comes back."""
    email_prompt: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "If you leave your e-mail address, we will get back to you as soon as we can.",
            "cs": "Když nám tu necháte e-mail, ozveme se vám co nejdřív.",
            "de": "Wenn Sie Ihre E-Mail-Adresse hinterlassen, melden wir uns so bald wie möglich.",
        }
    )
    """Per language: the offer to take a message."""
    assign_to: str | None = None
    """An agent id: on hand-off, really assign the chat to that agent over the REST API
    (``bot.assign``), so a person is notified, instead of only going quiet. Smartsupp has no
    group transfer, so name a person (e.g. the team lead who dispatches)."""


@attrs.define
class _Chat:
    """What the plugin knows about one chat."""

    visitor_id: str | None = None
    messages: collections.deque[str] = attrs.field(factory=lambda: collections.deque(maxlen=10))
    unanswered: int = 0
    proposed: str | None = None
    deadline: float | None = None
    handed_off: bool = False
    human_came: bool = False
    came_back: bool = False
    assign_pending: bool = False
    """``assign_to`` is set and the hand-off message is not out yet: assign once it is (an
    assigned human silences the bot, which would swallow the hand-off message)."""
    speaks_through_handoff: bool = False
    """Came back on a runtime that cannot resume: the plugin speaks via ``hand_off(message=)``
    and reads the visitor's messages in ``on_event`` (the chat stays handed off)."""


class Handoff:
    """Hand chats to humans (entry point ``handoff``).

    ``wall_clock`` (epoch seconds, stamped on webhook leads) and ``transport`` (httpx) are
    for tests; the wait before coming back runs on the runtime clock (virtual in tests).
    """

    def __init__(
        self,
        *,
        wall_clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._wall_clock = wall_clock
        self._transport = transport
        self.chats: dict[str, _Chat] = {}
        self.capture = LeadCapture()
        self.matcher = PhraseMatcher(DEFAULT_PHRASES)
        self.outbox: Outbox | None = None

    # -- set-up --------------------------------------------------------------------------------

    @hookimpl
    def register_config(self, register: Any) -> None:
        """Declare :class:`HandoffConfig`."""
        register(HandoffConfig)

    @hookimpl
    def on_start(self, bot: PluginBot) -> None:
        """Build the phrase matcher and the outbox; start webhook delivery."""
        config: HandoffConfig = bot.config
        self.matcher = PhraseMatcher({**DEFAULT_PHRASES, **config.phrases})
        self.outbox = Outbox(bot.storage, config=config.webhook)
        if config.webhook.url is not None:
            sender = WebhookSender(config.webhook, transport=self._transport)
            loop = DeliveryLoop(self.outbox, sender, wall_clock=lambda: self._wall(bot))
            bot.start_soon(loop.run, bot, name="handoff webhook delivery")

    def _now(self, bot: PluginBot) -> float:
        return bot.now()

    def _wall(self, bot: PluginBot) -> float:
        return self._wall_clock() if self._wall_clock is not None else bot.wall_time()

    def _chat(self, chat_id: str) -> _Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = _Chat()
        return chat

    # -- what happens in chats -------------------------------------------------------------------

    @hookimpl
    async def on_event(self, bot: PluginBot, event: ServerEvent, chat_id: str | None) -> None:
        """Count unanswered messages, notice humans and the bot's own proposal coming back."""
        message = getattr(event, "message", None)
        if chat_id is None or not isinstance(message, Message):
            return
        chat = self._chat(chat_id)
        if message.is_from_visitor:
            chat.unanswered += 1
            chat.visitor_id = message.visitor_id or chat.visitor_id
            if message.text:
                chat.messages.append(message.text[:1000])
            if chat.handed_off:
                await self._on_quiet_visitor_message(bot, chat_id, chat, message)
        elif message.is_from_agent and message.agent_id == bot.agent_id:
            chat.unanswered = 0
            if chat.assign_pending and chat.handed_off:
                chat.assign_pending = False
                self._start_assign(bot, chat_id)
            if (
                chat.proposed is not None
                and message.text
                and chat.proposed.startswith(message.text.strip()[:40])
            ):
                chat.proposed = None
                self._hand_off(bot, chat_id, chat, reason="unanswered", message=None)
        elif message.is_from_agent:
            chat.human_came = True

    @hookimpl
    def on_agent_joined(self, chat_id: str, agent: Agent) -> None:
        """A human joined: no coming back in this chat."""
        self._chat(chat_id).human_came = True

    @hookimpl
    def on_agent_assigned(self, bot: PluginBot, chat_id: str, agent_ids: tuple[str, ...]) -> None:
        """A human was assigned: no coming back in this chat."""
        if set(agent_ids) - {bot.agent_id}:
            self._chat(chat_id).human_came = True

    @hookimpl
    def on_chat_closed(self, chat_id: str) -> None:
        """Forget the chat."""
        self.chats.pop(chat_id, None)
        self.capture.forget(chat_id)

    @hookimpl
    async def on_visitor_message(
        self, bot: PluginBot, chat_id: str, message: Message, text: str
    ) -> Reply | None:
        """Hand off on a phrase; propose it after a streak; take a message after coming back."""
        config: HandoffConfig = bot.config
        chat = self._chat(chat_id)
        lang = await self._lang(bot, message.visitor_id)
        if chat.came_back:
            reply = await self._take_message(bot, chat_id, chat, message, text)
            if reply is not None:
                return Reply(reply, confidence=0.95)
        phrase = self.matcher.find(text)
        if phrase is not None and not (chat.handed_off and not chat.came_back):
            humans = bot.humans_online()
            texts = config.online_message if humans else config.offline_message
            self._hand_off(
                bot, chat_id, chat, reason="asked", message=pick(texts, lang, config.default_lang)
            )
            return None
        streak = config.unanswered_streak
        if streak and chat.unanswered >= streak and not chat.handed_off:
            texts = config.online_message if bot.humans_online() else config.offline_message
            chat.proposed = pick(texts, lang, config.default_lang)
            return Reply(chat.proposed, confidence=config.streak_confidence)
        return None

    # -- handing off and coming back ----------------------------------------------------------

    def _hand_off(
        self, bot: PluginBot, chat_id: str, chat: _Chat, *, reason: str, message: str | None
    ) -> None:
        config: HandoffConfig = bot.config
        humans = bot.humans_online()
        if not bot.hand_off(chat_id, message=message):
            return
        first = not chat.handed_off
        chat.handed_off = True
        chat.came_back = False
        chat.speaks_through_handoff = False
        wait = config.wait_seconds if humans else config.offline_wait_seconds
        if first or chat.deadline is None:
            chat.deadline = self._now(bot) + wait
        bot.logger.info(
            "handoff: chat %s handed off (%s; %d human(s) online)", chat_id, reason, len(humans)
        )
        self._notify(
            bot,
            {
                "event": "handoff",
                "reason": reason,
                "chat_id": chat_id,
                "visitor_id": chat.visitor_id,
                "humans_online": len(humans),
                "messages": list(chat.messages),
            },
        )
        if config.assign_to is not None:
            if message is None:
                self._start_assign(bot, chat_id)  # the proposal that handed off is already out
            else:
                chat.assign_pending = True
        if config.come_back:
            bot.start_soon(self._timer, bot, chat_id, wait, name=f"handoff timer {chat_id}")

    def _start_assign(self, bot: PluginBot, chat_id: str) -> None:
        config: HandoffConfig = bot.config
        if config.assign_to is not None:
            bot.start_soon(
                self._assign, bot, chat_id, config.assign_to, name=f"handoff assign {chat_id}"
            )

    async def _assign(self, bot: PluginBot, chat_id: str, agent_id: str) -> None:
        """Assign the chat to ``agent_id``; a failure is logged (the chat stays handed off)."""
        try:
            await bot.assign(chat_id, agent_id)
        except AgentbotError as exc:
            bot.logger.warning("handoff: chat %s: could not assign %s: %s", chat_id, agent_id, exc)
            return
        bot.logger.info("handoff: chat %s assigned to agent %s", chat_id, agent_id)

    async def _timer(self, bot: PluginBot, chat_id: str, wait: float) -> None:
        """Come back after ``wait`` seconds on the runtime clock, unless a human came."""
        await bot.sleep_until(bot.now() + wait)
        await self.come_back_if_due(bot, chat_id)

    async def come_back_if_due(self, bot: PluginBot, chat_id: str) -> bool:
        """Come back into ``chat_id`` if its wait is over and no human took it; return whether."""
        config: HandoffConfig = bot.config
        chat = self.chats.get(chat_id)
        if (
            chat is None
            or not config.come_back
            or not chat.handed_off
            or chat.came_back
            or chat.human_came
            or chat.deadline is None
            or self._now(bot) < chat.deadline
        ):
            return False
        visitor = await bot.visitor(chat.visitor_id)
        lang = visitor.lang if visitor is not None else None
        parts = [pick(config.comeback_message, lang, config.default_lang)]
        if config.ask_email:
            parts.append(pick(config.email_prompt, lang, config.default_lang))
        text = " ".join(parts)
        if bot.resume(chat_id):
            sent = bot.say(chat_id, text)
        else:
            sent = bot.hand_off(chat_id, message=text)
            chat.speaks_through_handoff = sent
        if not sent:
            return False
        chat.came_back = True
        if config.ask_email:
            self.capture.mark_asked(chat_id)
        bot.logger.info("handoff: chat %s: nobody took it; the bot came back", chat_id)
        self._notify(bot, {"event": "no_human_answered", "chat_id": chat_id,
                           "visitor_id": chat.visitor_id})  # fmt: skip
        return True

    async def _on_quiet_visitor_message(
        self, bot: PluginBot, chat_id: str, chat: _Chat, message: Message
    ) -> None:
        """A visitor wrote in a handed-off chat: maybe come back; maybe take their message."""
        if not chat.came_back:
            await self.come_back_if_due(bot, chat_id)
            if not chat.came_back:
                return
            if chat.speaks_through_handoff:
                # Their message may already hold the address the bot is about to ask for.
                reply = await self._take_message(bot, chat_id, chat, message, message.text or "")
                if reply is not None:
                    bot.hand_off(chat_id, message=reply)
            return
        if chat.speaks_through_handoff:
            reply = await self._take_message(bot, chat_id, chat, message, message.text or "")
            if reply is not None:
                bot.hand_off(chat_id, message=reply)

    async def _take_message(
        self, bot: PluginBot, chat_id: str, chat: _Chat, message: Message, text: str
    ) -> str | None:
        """After coming back: store an e-mail address as a lead; return what to say, if anything."""
        config: HandoffConfig = bot.config
        if not config.ask_email:
            return None
        result = self.capture.handle(chat_id, text, listening=True)
        visitor = await bot.visitor(message.visitor_id or chat.visitor_id)
        lang = visitor.lang if visitor is not None else None
        if result.outcome == "captured" and result.email is not None:
            lead = Lead(
                id=new_lead_id(),
                email=result.email,
                source="handoff",
                chat_id=chat_id,
                visitor_id=message.visitor_id or chat.visitor_id,
                name=visitor.name if visitor is not None else None,
                lang=lang,
                messages=tuple(chat.messages),
                created_at=self._wall(bot),
            )
            if self.outbox is not None:
                self.outbox.add(lead)
            fields = {**visitor_fields(visitor), "email": result.email}
            return render_first([pick(config.thanks_message, lang, config.default_lang)], fields)
        if result.outcome == "invalid":
            return pick(config.invalid_email_message, lang, config.default_lang)
        return None

    def _notify(self, bot: PluginBot, payload: dict[str, Any]) -> None:
        if self.outbox is None:
            return
        created_at = self._wall(bot)
        self.outbox.add_payload(
            {"id": new_lead_id(), **payload, "created_at": created_at}, created_at=created_at
        )

    async def _lang(self, bot: PluginBot, visitor_id: str | None) -> str | None:
        visitor = await bot.visitor(visitor_id)
        return visitor.lang if visitor is not None else None
