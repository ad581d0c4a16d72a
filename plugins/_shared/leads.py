"""Leads: e-mail validation, durable storage, and webhook delivery that never loses one.

A lead is stored in the plugin's storage (SQLite by default) *before* anything else happens
to it, and stays there, pending, until a webhook accepted it with a 2xx status. Delivery
runs in the background (:class:`DeliveryLoop`, started through the runtime) so a slow or
dead webhook never delays a reply; failed attempts are retried with capped exponential
backoff, forever, and survive restarts (the schedule is stored with the lead, in wall time).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import attrs
import httpx

from agentbot import AgentbotError, PluginBot

from .urls import check_http_url

__all__ = [
    "DeliveryLoop",
    "Lead",
    "Outbox",
    "WebhookConfig",
    "WebhookError",
    "WebhookSender",
    "find_email",
    "is_valid_email",
]

logger = logging.getLogger(__name__)

# Practical, not RFC 5322: what a visitor types into a chat. Local part: letters, digits
# and the usual symbols, no leading/trailing/double dots; domain: labels of letters,
# digits and hyphens, a TLD of 2+ letters (IDN TLDs arrive as punycode or letters).
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9\u00C0-\uFFFF](?:[A-Za-z0-9\u00C0-\uFFFF-]{0,61}[A-Za-z0-9\u00C0-\uFFFF])?"
_DOMAIN = rf"(?:{_LABEL}\.)+(?:[A-Za-z\u00C0-\uFFFF]{{2,63}}|xn--[A-Za-z0-9-]{{2,59}})"
_EMAIL = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")
_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"]+@[^\s<>()\[\],;:\"]+")


def is_valid_email(text: str) -> bool:
    """Return whether ``text`` (stripped) is a plausible e-mail address."""
    address = text.strip()
    if len(address) > 254 or address.count("@") != 1:
        return False
    local, _, domain = address.partition("@")
    if len(local) > 64 or len(domain) > 253:
        return False
    return _EMAIL.match(address) is not None


def find_email(text: str) -> tuple[str | None, bool]:
    """Find an e-mail address in a chat message.

    Returns ``(address, attempted)``: the first valid address (trailing punctuation
    trimmed) or None, and whether the text contained something that tried to be one (an
    ``@`` between non-spaces), so the caller can say "that does not look right".
    """
    attempted = False
    for candidate in _CANDIDATE.findall(text):
        attempted = True
        trimmed = candidate.strip(".,;:!?'\"")
        if is_valid_email(trimmed):
            return trimmed, True
    return None, attempted


@attrs.frozen(kw_only=True)
class Lead:
    """A visitor's contact request: who, how to reach them, and what they wanted."""

    id: str
    email: str
    source: str
    """Which plugin and why, e.g. ``"after_hours"`` or ``"handoff"``."""
    chat_id: str | None = None
    visitor_id: str | None = None
    name: str | None = None
    lang: str | None = None
    messages: tuple[str, ...] = ()
    """The visitor's recent messages in the chat, oldest first."""
    created_at: float = 0.0
    """Wall time (epoch seconds)."""

    def as_json(self) -> dict[str, Any]:
        """Return the webhook payload / stored form."""
        return {
            "event": "lead",
            "id": self.id,
            "email": self.email,
            "source": self.source,
            "chat_id": self.chat_id,
            "visitor_id": self.visitor_id,
            "name": self.name,
            "lang": self.lang,
            "messages": list(self.messages),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Lead:
        """Rebuild a stored lead."""
        return cls(
            id=str(data["id"]),
            email=str(data["email"]),
            source=str(data.get("source", "")),
            chat_id=data.get("chat_id"),
            visitor_id=data.get("visitor_id"),
            name=data.get("name"),
            lang=data.get("lang"),
            messages=tuple(data.get("messages", ())),
            created_at=float(data.get("created_at", 0.0)),
        )


def new_lead_id() -> str:
    """Return a random id for a lead (the webhook's idempotency key)."""
    return secrets.token_hex(8)


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _webhook_url(_instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        check_http_url(attribute.name, value)


def _webhook_headers(
    _instance: object, attribute: attrs.Attribute[Any], value: dict[str, str]
) -> None:
    # httpx sends header names and values as ASCII; say so at start-up, without the value.
    for name, text in value.items():
        if not (isinstance(name, str) and isinstance(text, str)):
            raise ValueError(f"{attribute.name}: names and values must be strings")
        if not (name.isascii() and text.isascii()):
            raise ValueError(
                f"{attribute.name}.{name.encode('ascii', 'replace').decode()}: "
                "names and values must be ASCII"
            )


@attrs.frozen(kw_only=True)
class WebhookConfig:
    """Where and how to POST: shared by after_hours' leads and handoff's notifications."""

    url: str | None = attrs.field(
        default=None, repr=False, validator=_webhook_url, metadata={"secret": True}
    )
    """The endpoint (secret: it often carries a token); None = only store."""
    headers: dict[str, str] = attrs.field(
        factory=dict, repr=False, validator=_webhook_headers, metadata={"secret": True}
    )
    """Extra request headers, e.g. an ``Authorization`` token (secret)."""
    timeout_seconds: float = attrs.field(default=10.0, validator=_positive)
    """One attempt's time limit."""
    retry_initial_seconds: float = attrs.field(default=5.0, validator=_positive)
    """Wait after the first failure; doubled after each further one ..."""
    retry_max_seconds: float = attrs.field(default=3600.0, validator=_positive)
    """... up to this. Retries never stop: a lead is never dropped."""
    idle_check_seconds: float = attrs.field(default=0.0, validator=_non_negative)
    """With nothing pending, look at storage again after this long; 0 (the default): only
    when the plugin adds something (nothing else writes its outbox)."""


class WebhookError(AgentbotError):
    """A webhook attempt failed (network error, timeout or a non-2xx status)."""


class WebhookSender:
    """POST JSON to the configured URL with httpx; one attempt per call."""

    def __init__(self, config: WebhookConfig, *, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._transport = transport

    async def post(self, payload: Mapping[str, Any]) -> int:
        """POST ``payload``; return the status; raise :class:`WebhookError` unless 2xx."""
        url = self.config.url
        if url is None:
            raise WebhookError("no webhook url configured")
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self.config.timeout_seconds
            ) as client:
                response = await client.post(url, json=dict(payload), headers=self.config.headers)
        except httpx.HTTPError as exc:
            # The URL may carry a token: name the error type only.
            raise WebhookError(f"webhook unreachable: {type(exc).__name__}") from None
        except (httpx.InvalidURL, UnicodeError) as exc:
            # A request httpx cannot build (bad URL or header): retried like any failure,
            # so the delivery loop lives on and the lead stays stored.
            raise WebhookError(f"webhook request invalid: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise WebhookError(f"webhook answered HTTP {response.status_code}")
        return response.status_code


class Outbox:
    """Webhook payloads (leads, notifications) in the plugin's storage, with delivery state.

    Stored under ``outbox:<id>`` as ``{"payload": {...}, "attempts": n, "next_attempt_at":
    t, "delivered_at": t | None, "last_error": str | None}`` (wall-clock epoch seconds).
    Delivered records are kept (the storage is the record of every lead); pending ones are
    retried until the webhook accepts them.
    """

    PREFIX = "outbox:"
    CLAIM_SECONDS = 120.0
    """How long a claimed record is hidden from other replicas (a POST takes far less)."""

    def __init__(self, storage: Any, *, config: WebhookConfig) -> None:
        self.storage = storage
        self.config = config
        self.changed = anyio.Event()
        """Set when something is added (wakes the delivery loop); replaced after each wake."""

    def add(self, lead: Lead) -> None:
        """Store ``lead`` as pending (due now); wake the delivery loop."""
        self.add_payload(lead.as_json(), created_at=lead.created_at)

    def add_payload(self, payload: Mapping[str, Any], *, created_at: float) -> None:
        """Store any JSON ``payload`` with an ``"id"`` as pending (due at ``created_at``)."""
        self.storage.set(
            self.PREFIX + str(payload["id"]),
            {
                "payload": dict(payload),
                "attempts": 0,
                "next_attempt_at": created_at,
                "delivered_at": None,
                "last_error": None,
            },
        )
        self.changed.set()

    def records(self) -> list[dict[str, Any]]:
        """Return every stored lead record, oldest key first."""
        found = []
        for key in self.storage.keys(self.PREFIX):
            record = self.storage.get(key)
            if isinstance(record, dict) and "payload" in record:
                found.append(record)
        return found

    def pending(self) -> list[dict[str, Any]]:
        """Return the records not delivered yet."""
        return [r for r in self.records() if r.get("delivered_at") is None]

    def backoff(self, attempts: int) -> float:
        """Return the wait after ``attempts`` failed attempts (capped doubling)."""
        initial = self.config.retry_initial_seconds
        return float(min(initial * 2 ** max(attempts - 1, 0), self.config.retry_max_seconds))

    async def deliver_due(self, sender: WebhookSender, *, now: float) -> float | None:
        """Attempt every pending lead due at ``now``; return the next due time, or None.

        Each attempt's outcome is written back to storage at once, so a crash between two
        attempts loses nothing and repeats at most one POST (the lead id lets the receiver
        deduplicate).
        """
        if self.config.url is None:
            return None
        next_due: float | None = None
        claimed = self._claim_due(now)
        for record in self.pending() if claimed is None else claimed:
            lead = record["payload"]
            due = float(record.get("next_attempt_at") or 0.0)
            if due <= now:
                key = self.PREFIX + str(lead["id"])
                try:
                    await sender.post(lead)
                except WebhookError as exc:
                    record["attempts"] = int(record.get("attempts", 0)) + 1
                    record["last_error"] = str(exc)
                    due = now + self.backoff(record["attempts"])
                    record["next_attempt_at"] = due
                    self.storage.set(key, record)
                    logger.warning(
                        "webhook %s: %s; attempt %d failed, next in %.0f s",
                        lead["id"],
                        exc,
                        record["attempts"],
                        due - now,
                    )
                else:
                    record["attempts"] = int(record.get("attempts", 0)) + 1
                    record["delivered_at"] = now
                    record["last_error"] = None
                    self.storage.set(key, record)
                    logger.info("webhook %s delivered", lead["id"])
                    continue
            next_due = due if next_due is None else min(next_due, due)
        if claimed is not None:  # what others hold or is not due yet decides the next look
            for record in self.pending():
                due = float(record.get("next_attempt_at") or 0.0)
                next_due = due if next_due is None else min(next_due, due)
        return next_due

    def _claim_due(self, now: float) -> list[dict[str, Any]] | None:
        """On a store shared by replicas (PostgreSQL), claim the due records; else None.

        ``claim_due`` locks rows with ``FOR UPDATE SKIP LOCKED`` and hides them from the
        other replicas for ``CLAIM_SECONDS``, so each lead is posted by one replica.
        """
        claim = getattr(self.storage, "claim_due", None)
        if claim is None:
            return None
        records = []
        for _key, record in claim(self.PREFIX, now=now, claim_seconds=self.CLAIM_SECONDS):
            if isinstance(record, dict) and "payload" in record:
                records.append({**record, "next_attempt_at": now})  # ours now: due
        return records


class DeliveryLoop:
    """Deliver an outbox's leads in the background, on the runtime's clock.

    Waits (``bot.wait_for``, on the runtime clock) until the next lead is due, or until a
    new lead arrives, or for ``idle_check_seconds`` when nothing is pending. Started with
    ``bot.start_soon``; cancelled with the bot.
    """

    def __init__(
        self,
        outbox: Outbox,
        sender: WebhookSender,
        *,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.wall_clock = wall_clock
        """Epoch seconds; default the runtime's ``bot.wall_time()``."""

    def _wall(self, bot: PluginBot) -> float:
        return self.wall_clock() if self.wall_clock is not None else bot.wall_time()

    async def run(self, bot: PluginBot) -> None:
        """Loop until cancelled."""
        config = self.outbox.config
        while True:
            woken = self.outbox.changed
            wall = self._wall(bot)
            try:
                next_due = await self.outbox.deliver_due(self.sender, now=wall)
            except AgentbotError:  # storage trouble: logged, retried on the next round
                logger.exception("lead delivery failed")
                next_due = wall + config.retry_initial_seconds
            if next_due is None:
                wait = config.idle_check_seconds or None
            else:
                wait = max(next_due - self._wall(bot), 0.0)
            if woken.is_set():
                self.outbox.changed = anyio.Event()
                if wait is None or wait > 0:
                    continue  # a lead arrived meanwhile: go again now
            # Parked on the runtime clock, so a test harness sees an idle loop as idle.
            await bot.wait_for(woken, deadline=None if wait is None else bot.now() + wait)
