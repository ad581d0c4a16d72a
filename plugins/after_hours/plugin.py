"""The ``after_hours`` plugin: an away message, a lead form in the chat, webhook delivery.

Triggers (either one): the business is closed by its schedule (weekly hours in a time zone,
public holidays of a country/region via the ``holidays`` package, extra closed dates), or
no human agent of the account is online (``when_no_human_online``).

In a chat that starts while triggered, the bot says the away message once (with
``bot.say``, so it follows whatever answer another plugin gives the visitor's question) and,
with ``ask_email``, asks for an e-mail address. An address in a later message is validated,
stored as a lead in the plugin's storage and delivered to the webhook in the background,
with retries until it is accepted; a mistyped one gets one polite correction.

``track_visitors_when_open`` / ``track_visitors_when_closed`` switch the bot's
``track_visitors`` with the schedule (e.g. full visitor tracking only while a team is in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from agentbot import Message, PluginBot, Reply, Visitor, hookimpl

from .._shared.capture import LeadCapture, LeadOptions
from .._shared.lang import pick
from .._shared.leads import DeliveryLoop, Lead, Outbox, WebhookSender, new_lead_id
from .._shared.templates import render_first, visitor_fields
from .schedule import Schedule, ScheduleError

__all__ = ["AfterHours", "AfterHoursConfig"]

logger = logging.getLogger(__name__)

_WEEKDAY_HOURS = "09:00-17:00"


def _unit(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


@attrs.frozen(kw_only=True)
class AfterHoursConfig(LeadOptions):
    """``[plugins.after_hours]``: opening hours, what to say outside them, where leads go."""

    timezone: str = "UTC"
    """IANA time zone of the opening hours, e.g. ``"Europe/Prague"``."""
    hours: dict[str, str] = attrs.field(
        factory=lambda: dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), _WEEKDAY_HOURS)
    )
    """Weekday (mon…sun) → ``"09:00-12:00, 13:00-17:00"``; a missing or empty day is closed."""
    holidays_country: str | None = None
    """ISO country code whose public holidays are closed days, e.g. ``"CZ"``, ``"DE"``."""
    holidays_subdivision: str | None = None
    """Region for regional holidays, e.g. ``"BY"`` (Bavaria) with ``"DE"``."""
    closed_dates: list[str] = attrs.field(factory=list)
    """Extra closed days, ``"YYYY-MM-DD"``."""
    when_no_human_online: bool = True
    """Also cover chats when no human agent is online, even within opening hours."""
    away_message: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Thanks for your message! Our team is away right now and will reply as "
            "soon as we are back.",
            "cs": "Děkujeme za zprávu! Náš tým teď není k dispozici, odpovíme hned, jak "
            "budeme zpět.",
            "de": "Danke für Ihre Nachricht! Unser Team ist gerade nicht da und antwortet, "
            "sobald wir zurück sind.",
        }
    )
    """Per language: said once per chat while closed. Fields: ``{first_name|…}`` etc."""
    busy_message: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Thanks for your message! All our colleagues are busy right now.",
            "cs": "Děkujeme za zprávu! Všichni kolegové jsou teď zaneprázdnění.",
            "de": "Danke für Ihre Nachricht! Alle Kollegen sind gerade beschäftigt.",
        }
    )
    """Per language: said instead within opening hours when no human is online."""
    email_prompt: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Leave your e-mail address here and we will get back to you.",
            "cs": "Nechte nám tu svůj e-mail a ozveme se vám.",
            "de": "Hinterlassen Sie hier Ihre E-Mail-Adresse, wir melden uns.",
        }
    )
    """Per language: appended to the away message when ``ask_email``."""
    reply_confidence: float = attrs.field(default=0.95, validator=_unit)
    """Confidence of the thanks / correction replies (they should win)."""
    track_visitors_when_open: bool | None = None
    """Set ``track_visitors`` to this while open (None: leave it alone)."""
    track_visitors_when_closed: bool | None = None
    """Set ``track_visitors`` to this while closed (None: leave it alone)."""

    def __attrs_post_init__(self) -> None:
        try:
            self.schedule()
        except ScheduleError as exc:
            raise ValueError(f"{exc.field}: {exc}") from None

    def schedule(self) -> Schedule:
        """Build the :class:`Schedule` these options describe."""
        return Schedule.build(
            timezone=self.timezone,
            hours=self.hours,
            country=self.holidays_country,
            subdivision=self.holidays_subdivision,
            closed_dates=self.closed_dates,
        )


class AfterHours:
    """Cover the hours nobody is there (entry point ``after_hours``).

    ``wall_clock`` (epoch seconds) and ``transport`` (httpx) are for tests and embedding;
    by default the runtime's wall time and a real network are used.
    """

    def __init__(
        self,
        *,
        wall_clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._wall_clock = wall_clock
        self._transport = transport
        self.capture = LeadCapture()
        self.schedule: Schedule | None = None
        self.outbox: Outbox | None = None
        self._covered: set[str] = set()

    def wall_time(self, bot: PluginBot) -> float:
        """Now, in epoch seconds."""
        return self._wall_clock() if self._wall_clock is not None else bot.wall_time()

    @hookimpl
    def register_config(self, register: Any) -> None:
        """Declare :class:`AfterHoursConfig`."""
        register(AfterHoursConfig)

    @hookimpl
    def on_start(self, bot: PluginBot) -> None:
        """Build the schedule and the lead outbox; start delivery and the tracking switch."""
        config: AfterHoursConfig = bot.config
        self.schedule = config.schedule()
        self.outbox = Outbox(bot.storage, config=config.webhook)
        pending = len(self.outbox.pending())
        if config.webhook.url is not None:
            sender = WebhookSender(config.webhook, transport=self._transport)
            loop = DeliveryLoop(self.outbox, sender, wall_clock=lambda: self.wall_time(bot))
            bot.start_soon(loop.run, bot, name="after_hours lead delivery")
            if pending:
                bot.logger.info("after_hours: %d lead(s) waiting for the webhook", pending)
        if self._tracks(config):
            bot.start_soon(self._track_loop, bot, name="after_hours track_visitors")

    @staticmethod
    def _tracks(config: AfterHoursConfig) -> bool:
        return None not in (config.track_visitors_when_open, config.track_visitors_when_closed)

    def _apply_tracking(self, bot: PluginBot) -> None:
        config: AfterHoursConfig = bot.config
        if self.schedule is None:
            return
        wanted = (
            config.track_visitors_when_open
            if self.schedule.is_open(self.wall_time(bot))
            else config.track_visitors_when_closed
        )
        if wanted is not None and bot.track_visitors != wanted:
            bot.track_visitors = wanted

    async def _track_loop(self, bot: PluginBot) -> None:
        """Flip ``track_visitors`` at every opening and closing, on the runtime clock."""
        while self.schedule is not None:
            self._apply_tracking(bot)
            wall = self.wall_time(bot)
            change = self.schedule.next_change(wall)
            if change is None:
                return
            wait = max(change.timestamp() - wall, 1.0)
            await bot.sleep_until(bot.now() + wait)
            if self.wall_time(bot) <= wall:
                return  # a wall clock that does not move (a test's fixed moment): stop

    @hookimpl
    def on_connected(self, bot: PluginBot) -> None:
        """Apply the scheduled ``track_visitors`` at once (also without background tasks)."""
        self._apply_tracking(bot)

    @hookimpl
    def on_chat_closed(self, bot: PluginBot, chat_id: str) -> None:
        """Forget the chat."""
        self.capture.forget(chat_id)
        self._covered.discard(chat_id)
        bot.storage.delete(f"chat:{chat_id}")

    def closed_reason(self, bot: PluginBot) -> str | None:
        """Return ``"closed"`` (schedule), ``"busy"`` (no human online) or None (open)."""
        config: AfterHoursConfig = bot.config
        if self.schedule is not None and not self.schedule.is_open(self.wall_time(bot)):
            return "closed"
        if config.when_no_human_online and not bot.humans_online():
            return "busy"
        return None

    def _claim(self, bot: PluginBot, chat_id: str) -> bool:
        key = f"chat:{chat_id}"
        if chat_id in self._covered or bot.storage.get(key):
            return False
        self._covered.add(chat_id)
        bot.storage.set(key, True)
        return True

    @hookimpl
    async def on_visitor_message(
        self, bot: PluginBot, chat_id: str, message: Message, text: str
    ) -> Reply | None:
        """Capture an e-mail address, or say the away message once; return a reply or None."""
        config: AfterHoursConfig = bot.config
        self._apply_tracking(bot)
        reason = self.closed_reason(bot)
        covering = reason is not None or chat_id in self._covered
        result = self.capture.handle(chat_id, text, listening=covering and config.ask_email)
        visitor = await bot.visitor(message.visitor_id)
        fields = visitor_fields(visitor)
        lang = visitor.lang if visitor is not None else None
        if result.outcome == "captured" and result.email is not None:
            self._claim(bot, chat_id)  # the thanks covers the away message too
            self.store_lead(
                bot, chat_id, message.visitor_id, visitor, result.email, result.messages
            )
            thanks = render_first(
                [pick(config.thanks_message, lang, config.default_lang)],
                {**fields, "email": result.email},
            )
            return Reply(thanks or result.email, confidence=config.reply_confidence)
        if result.outcome == "invalid":
            text_out = pick(config.invalid_email_message, lang, config.default_lang)
            return Reply(text_out, confidence=config.reply_confidence)
        if reason is not None and self._claim(bot, chat_id):
            texts = config.away_message if reason == "closed" else config.busy_message
            parts = [render_first([pick(texts, lang, config.default_lang)], fields)]
            if config.ask_email:
                parts.append(pick(config.email_prompt, lang, config.default_lang))
                self.capture.mark_asked(chat_id)
            bot.say(chat_id, "\n\n".join(p for p in parts if p))
        return None

    def store_lead(
        self,
        bot: PluginBot,
        chat_id: str,
        visitor_id: str | None,
        visitor: Visitor | None,
        email: str,
        messages: tuple[str, ...],
    ) -> Lead:
        """Store a lead (pending delivery) and wake the delivery loop."""
        lead = Lead(
            id=new_lead_id(),
            email=email,
            source="after_hours",
            chat_id=chat_id,
            visitor_id=visitor_id,
            name=visitor.name if visitor is not None else None,
            lang=visitor.lang if visitor is not None else None,
            messages=messages,
            created_at=self.wall_time(bot),
        )
        if self.outbox is None:
            self.outbox = Outbox(bot.storage, config=bot.config.webhook)
        self.outbox.add(lead)
        bot.logger.info("after_hours: chat %s: lead %s stored", chat_id, lead.id)
        return lead
