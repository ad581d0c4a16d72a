"""Ask a visitor for an e-mail address in a chat and recognise it when it comes.

Per chat: the visitor's recent messages (they go with the lead, so the team knows what the
visitor wanted), whether the bot asked, and whether an address was taken already (one lead
per chat). A message that tries to be an address but is not one is answered only after the
bot asked, at most ``max_corrections`` times, so a stray ``@`` in a question is not nagged
about.
"""

from __future__ import annotations

import collections
from typing import Literal

import attrs

from .leads import WebhookConfig, find_email

__all__ = [
    "DEFAULT_INVALID_EMAIL_MESSAGE",
    "DEFAULT_THANKS_MESSAGE",
    "CaptureResult",
    "LeadCapture",
    "LeadOptions",
]

# The replies to an address, shared by every plugin that captures leads (after_hours,
# handoff): per language; ``{email}`` is the address.
DEFAULT_THANKS_MESSAGE = {
    "en": "Thank you! We will write to {email} as soon as we can.",
    "cs": "Děkujeme! Ozveme se vám na {email} co nejdřív.",
    "de": "Danke! Wir schreiben Ihnen so bald wie möglich an {email}.",
}
DEFAULT_INVALID_EMAIL_MESSAGE = {
    "en": "Hmm, that does not look like an e-mail address. Could you check it?",
    "cs": "Hmm, tohle nevypadá jako e-mailová adresa. Můžete ji zkontrolovat?",
    "de": "Hm, das sieht nicht wie eine E-Mail-Adresse aus. Können Sie sie prüfen?",
}


@attrs.frozen(kw_only=True)
class LeadOptions:
    """The lead-capture options every plugin that takes e-mail addresses shares.

    after_hours' and handoff's configs inherit them, so the keys stay flat in bot.toml
    (``[plugins.handoff] ask_email = false``) and each is declared once. Each plugin keeps
    its own ``email_prompt``: the offer's wording depends on the moment it is made.
    """

    ask_email: bool = True
    """Ask for an e-mail address and capture the answer as a lead."""
    thanks_message: dict[str, str] = attrs.field(factory=lambda: dict(DEFAULT_THANKS_MESSAGE))
    """Per language: the reply to a valid address (``{email}`` is the address)."""
    invalid_email_message: dict[str, str] = attrs.field(
        factory=lambda: dict(DEFAULT_INVALID_EMAIL_MESSAGE)
    )
    """Per language: the reply to an address that does not validate."""
    default_lang: str = "en"
    """Language of the texts when the visitor's is unknown or missing."""
    webhook: WebhookConfig = attrs.field(factory=WebhookConfig)
    """Where leads (and handoff's notifications) are POSTed: ``[plugins.NAME.webhook]`` with
    url, headers and retries."""


Outcome = Literal["captured", "invalid", "none"]


@attrs.frozen
class CaptureResult:
    """What a visitor message meant for lead capture."""

    outcome: Outcome
    email: str | None = None
    messages: tuple[str, ...] = ()
    """The visitor's recent messages in the chat (for the lead), oldest first."""


@attrs.define
class _Chat:
    messages: collections.deque[str] = attrs.field(factory=lambda: collections.deque(maxlen=10))
    asked: bool = False
    captured: bool = False
    corrections: int = 0


class LeadCapture:
    """E-mail capture state for many chats."""

    def __init__(self, *, max_corrections: int = 2, max_chats: int = 10_000) -> None:
        self.max_corrections = max_corrections
        self._chats: collections.OrderedDict[str, _Chat] = collections.OrderedDict()
        self._max_chats = max_chats

    def _chat(self, chat_id: str) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
            while len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        return chat

    def asked(self, chat_id: str) -> bool:
        """Whether the bot asked for an address in this chat."""
        chat = self._chats.get(chat_id)
        return chat is not None and chat.asked

    def captured(self, chat_id: str) -> bool:
        """Whether this chat already gave an address."""
        chat = self._chats.get(chat_id)
        return chat is not None and chat.captured

    def mark_asked(self, chat_id: str) -> None:
        """Note that the bot asked for an address."""
        self._chat(chat_id).asked = True

    def handle(self, chat_id: str, text: str, *, listening: bool) -> CaptureResult:
        """Record ``text`` and say whether it gave an address.

        ``listening``: whether an address is welcome in this chat now (the bot asked, or
        is about to). ``"invalid"`` only after the bot asked.
        """
        chat = self._chat(chat_id)
        if text.strip():
            chat.messages.append(text.strip()[:1000])
        if chat.captured or not (listening or chat.asked):
            return CaptureResult("none")
        email, attempted = find_email(text)
        if email is not None:
            chat.captured = True
            return CaptureResult("captured", email, tuple(chat.messages))
        if attempted and chat.asked and chat.corrections < self.max_corrections:
            chat.corrections += 1
            return CaptureResult("invalid")
        return CaptureResult("none")

    def forget(self, chat_id: str) -> None:
        """Drop a closed chat's state."""
        self._chats.pop(chat_id, None)
