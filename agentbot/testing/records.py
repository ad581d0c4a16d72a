"""What a harness test reads: transcript entries, the bot's messages, and the failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "BotMessage",
    "HarnessTimeout",
    "NoReply",
    "PluginFailed",
    "SaidMessage",
    "TranscriptEntry",
    "UnexpectedReply",
    "bot_message_at",
    "transcript_text",
]


# ---------------------------------------------------------------------------------------------
# What the test reads: transcript entries, the bot's messages, the visitor's own messages
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TranscriptEntry:
    """One line of a chat's transcript as the sandbox recorded it (what the visitor saw).

    ``t`` is virtual time (seconds on the harness clock); ``seq`` orders every recorded
    thing in the sandbox. ``kind`` is ``"message"``, ``"typing"`` or ``"event"``; ``by`` is
    ``"visitor"``, ``"agent"`` or ``"system"``; ``from_bot`` tells the bot's lines from a
    human agent's.
    """

    seq: int
    t: float
    chat_id: str
    kind: str
    by: str
    from_bot: bool
    agent_id: str | None = None
    text: str | None = None
    is_typing: bool | None = None
    message_id: str | None = None
    event: str | None = None

    @classmethod
    def from_wire(cls, entry: Mapping[str, Any], *, bot_id: str) -> TranscriptEntry:
        """Build an entry from the sandbox's JSON shape (docs/SANDBOX_SERVER.md)."""
        agent_id = entry.get("agentId")
        return cls(
            seq=int(entry["seq"]),
            t=float(entry["t"]),
            chat_id=str(entry["chatId"]),
            kind=str(entry["kind"]),
            by=str(entry["by"]),
            from_bot=entry.get("by") == "agent" and agent_id == bot_id,
            agent_id=agent_id,
            text=entry.get("text"),
            is_typing=entry.get("is"),
            message_id=entry.get("messageId"),
            event=entry.get("event"),
        )

    def describe(self) -> str:
        """Return the entry as one readable line (for assertion messages)."""
        who = "bot" if self.from_bot else (self.agent_id or self.by)
        if self.kind == "message":
            what = repr(self.text)
        elif self.kind == "typing":
            what = "typing on" if self.is_typing else "typing off"
        else:
            what = self.event or self.kind
        return f"{self.t:8.3f} s  {who}: {what}"


@attrs.frozen(kw_only=True)
class BotMessage:
    """One message the bot sent into a chat, with the timings of its typing indicator.

    All times are virtual seconds. ``typing_seconds`` is how long the visitor saw "typing…"
    before the message (0.0 if the bot sent it without typing); ``delay_seconds`` is the time
    from the visitor's previous message to this one.
    """

    text: str
    chat_id: str
    message_id: str | None
    seq: int
    sent_at: float
    typing_started_at: float | None
    typing_stopped_at: float | None
    visitor_said_at: float | None

    @property
    def typing_seconds(self) -> float:
        """Seconds the typing indicator was on before this message."""
        if self.typing_started_at is None:
            return 0.0
        return self.sent_at - self.typing_started_at

    @property
    def delay_seconds(self) -> float:
        """Seconds from the visitor's previous message to this one (0.0 if none)."""
        if self.visitor_said_at is None:
            return 0.0
        return self.sent_at - self.visitor_said_at


@attrs.frozen(kw_only=True)
class SaidMessage:
    """A message a simulated visitor wrote: its id (the pacing seed), chat and time."""

    id: str
    text: str
    chat_id: str
    t: float


# ---------------------------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------------------------


class NoReply(AssertionError):
    """The bot did not answer within the virtual time the test allowed."""


class UnexpectedReply(AssertionError):
    """The bot answered where the test expected silence; ``reply`` is what it sent."""

    def __init__(self, message: str, *, reply: BotMessage) -> None:
        super().__init__(message)
        self.reply = reply


class PluginFailed(AssertionError):
    """A plugin raised, returned something invalid or overran its budget during the test."""


class HarnessTimeout(AssertionError):
    """The bot did not settle within ``wait_seconds`` of real time (a hang, not a pace)."""


def transcript_text(entries: Sequence[TranscriptEntry]) -> str:
    if not entries:
        return "    (the transcript is empty)"
    return "\n".join(f"    {entry.describe()}" for entry in entries)


def bot_message_at(entries: Sequence[TranscriptEntry], index: int) -> BotMessage:
    """Describe the bot message at ``entries[index]`` with its typing window."""
    entry = entries[index]
    started: float | None = None
    said: float | None = None
    for before in reversed(entries[:index]):
        if before.chat_id != entry.chat_id:
            continue
        if before.kind == "message" and before.from_bot:
            break  # the previous bot message: typing before it belongs to it
        if started is None and before.kind == "typing" and before.from_bot:
            started = before.t if before.is_typing else None
            if not before.is_typing:
                break  # typing was switched off before this message: sent without typing
    for before in reversed(entries[:index]):
        if before.chat_id == entry.chat_id and before.kind == "message" and before.by == "visitor":
            said = before.t
            break
    stopped = next(
        (
            after.t
            for after in entries[index + 1 :]
            if after.chat_id == entry.chat_id
            and after.kind == "typing"
            and after.from_bot
            and not after.is_typing
        ),
        None,
    )
    return BotMessage(
        text=entry.text or "",
        chat_id=entry.chat_id,
        message_id=entry.message_id,
        seq=entry.seq,
        sent_at=entry.t,
        typing_started_at=started,
        typing_stopped_at=stopped,
        visitor_said_at=said,
    )
