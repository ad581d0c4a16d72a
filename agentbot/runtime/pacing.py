"""How long a careful human agent takes to answer: a pure, seeded model.

A bot that answers in 3 ms reads as a bot. Before each message the runtime shows the agent
typing (``chat.typing`` true) for the delay this module computes, then sends the message.
Nothing here sleeps, reads the clock or does I/O: the functions turn (incoming text, reply
text, settings, seed) into delays, so tests check the formula exactly (DESIGN.md, runtime).

The model, per outgoing message::

    raw    = reading + thinking + typing
    read   = len(incoming text) / reading_chars_per_second        (first message only)
    think  = thinking_seconds                                      (first message)
           | pause_between_messages_seconds                        (follow-up parts)
    type   = len(message text) / typing_chars_per_second
    delay  = clamp(raw × jitter, min_seconds, max_seconds) × time_scale
    jitter = uniform(1 − jitter, 1 + jitter), drawn from SeededDraws(seed)

Why these defaults: people skim a chat line at roughly 30 characters a second (about
300 words a minute, a little faster than careful reading); a support agent takes about half a
second to decide what to say; and live-chat agents type fast and paste canned answers, so an
effective 30 characters a second is believable where a literal 5–7 (40–80 wpm) would make the
visitor wait 20 s for a paragraph. With them:

============================================  =========================
incoming → reply                               delay (before jitter)
============================================  =========================
"hi" (2) → "Hello! How can I help?" (22)       0.07 + 0.5 + 0.73 = 1.3 s
40-char question → 100-char answer             1.33 + 0.5 + 3.33 = 5.2 s
60-char question → 300-char answer             clamped to 8 s
============================================  =========================

so typical replies take about 1–6 s, never under 1 s or over 8 s per message, ±20 %.
``time_scale`` is the speed factor: every delay is multiplied by it (0.05 for a lively demo,
0 to switch pacing off in benchmarks).

Long replies (over ``max_message_chars`` characters) are split into several messages: one
per paragraph, and a paragraph still too long is cut at sentence ends, then spaces. Each part
gets its own typing and delay, as a person sends a long answer in pieces.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

import attrs

__all__ = [
    "DEFAULT_JITTER",
    "DEFAULT_MAX_MESSAGE_CHARS",
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_MIN_SECONDS",
    "DEFAULT_PAUSE_BETWEEN_MESSAGES_SECONDS",
    "DEFAULT_READING_CHARS_PER_SECOND",
    "DEFAULT_THINKING_SECONDS",
    "DEFAULT_TYPING_CHARS_PER_SECOND",
    "Draws",
    "PacingSettings",
    "PlannedMessage",
    "SeededDraws",
    "message_delay",
    "plan_reply",
    "reading_delay",
    "split_reply",
]

DEFAULT_READING_CHARS_PER_SECOND = 30.0
DEFAULT_THINKING_SECONDS = 0.5
DEFAULT_TYPING_CHARS_PER_SECOND = 30.0
DEFAULT_PAUSE_BETWEEN_MESSAGES_SECONDS = 0.4
DEFAULT_JITTER = 0.2
DEFAULT_MIN_SECONDS = 1.0
DEFAULT_MAX_SECONDS = 8.0
DEFAULT_MAX_MESSAGE_CHARS = 400
DEFAULT_RETYPE_SECONDS = 0.5
"""After a reconnect, typing shown again before a pending reply goes out. Short: the visitor
already watched the bot type before the drop; the pause only makes typing visible on the new
connection. 1 s lost replies between links that live 0.5-1.5 s (issue 16's flapping soak)."""


def _non_negative(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _jitter_range(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{attribute.name} must be in [0, 1), got {value!r}")


def _min_chars(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 20:
        raise ValueError(f"{attribute.name} must be at least 20, got {value!r}")


@attrs.frozen(kw_only=True)
class PacingSettings:
    """The ``[pacing]`` section of bot.toml: the numbers of the model in the module docstring."""

    time_scale: float = attrs.field(default=1.0, validator=_non_negative)
    """The speed factor: every delay is multiplied by it (1 = human, 0 = no waiting)."""
    reading_chars_per_second: float = attrs.field(
        default=DEFAULT_READING_CHARS_PER_SECOND, validator=_positive
    )
    thinking_seconds: float = attrs.field(default=DEFAULT_THINKING_SECONDS, validator=_non_negative)
    typing_chars_per_second: float = attrs.field(
        default=DEFAULT_TYPING_CHARS_PER_SECOND, validator=_positive
    )
    pause_between_messages_seconds: float = attrs.field(
        default=DEFAULT_PAUSE_BETWEEN_MESSAGES_SECONDS, validator=_non_negative
    )
    jitter: float = attrs.field(default=DEFAULT_JITTER, validator=_jitter_range)
    min_seconds: float = attrs.field(default=DEFAULT_MIN_SECONDS, validator=_non_negative)
    max_seconds: float = attrs.field(default=DEFAULT_MAX_SECONDS, validator=_non_negative)
    max_message_chars: int = attrs.field(default=DEFAULT_MAX_MESSAGE_CHARS, validator=_min_chars)
    retype_seconds: float = attrs.field(default=DEFAULT_RETYPE_SECONDS, validator=_non_negative)
    """After a reconnect, how long typing shows on the new link before a pending message."""

    @property
    def retype_delay_seconds(self) -> float:
        """``retype_seconds`` at the configured speed (``time_scale``)."""
        return self.retype_seconds * self.time_scale

    def __attrs_post_init__(self) -> None:
        if self.min_seconds > self.max_seconds:
            raise ValueError(
                f"min_seconds ({self.min_seconds}) must not exceed max_seconds ({self.max_seconds})"
            )


@attrs.frozen
class PlannedMessage:
    """One message to send: show typing for ``delay_seconds``, then send ``text``."""

    text: str
    delay_seconds: float


class Draws(Protocol):
    """A source of uniform draws (``random.Random`` is one; :class:`SeededDraws` another)."""

    def uniform(self, a: float, b: float) -> float:
        """Return a number between ``a`` and ``b``."""
        ...


class SeededDraws:
    """Uniform draws derived from a seed by hashing: reproducible on every platform and run.

    Cheaper than seeding a ``random.Random`` (Mersenne Twister) per reply, which matters on
    the path from a visitor message to typing true: draw ``i`` is
    ``blake2b(seed + ":" + i)`` read as a fraction of 2**64.
    """

    __slots__ = ("_index", "_seed")

    def __init__(self, seed: int | str | bytes) -> None:
        self._seed = seed if isinstance(seed, bytes) else str(seed).encode()
        self._index = 0

    def random(self) -> float:
        """Return the next draw in [0, 1)."""
        digest = hashlib.blake2b(
            self._seed + b":" + str(self._index).encode(), digest_size=8
        ).digest()
        self._index += 1
        return int.from_bytes(digest, "big") / 2**64

    def uniform(self, a: float, b: float) -> float:
        """Return the next draw scaled to [a, b)."""
        return a + (b - a) * self.random()


def _jitter(rng: Draws, settings: PacingSettings) -> float:
    return rng.uniform(1.0 - settings.jitter, 1.0 + settings.jitter)


def message_delay(
    incoming_text: str,
    message_text: str,
    settings: PacingSettings,
    rng: Draws,
    *,
    follow_up: bool = False,
) -> float:
    """Return the typing delay for one message, in seconds (the model in the module doc).

    ``follow_up`` marks the second and later parts of a split reply: no reading time, and
    the short pause between messages instead of the thinking time.
    """
    if follow_up:
        raw = settings.pause_between_messages_seconds
    else:
        raw = len(incoming_text) / settings.reading_chars_per_second + settings.thinking_seconds
    raw += len(message_text) / settings.typing_chars_per_second
    clamped = min(max(raw * _jitter(rng, settings), settings.min_seconds), settings.max_seconds)
    return clamped * settings.time_scale


def reading_delay(text: str, settings: PacingSettings, *, seed: int | str | bytes) -> float:
    """Return how long it takes to read ``text`` (jittered, scaled, not clamped).

    The runtime adds this to a pending reply when the visitor writes again and the pending
    answer is still the right one: the agent reads the new line before sending.
    """
    rng = SeededDraws(seed)
    raw = len(text) / settings.reading_chars_per_second
    return raw * _jitter(rng, settings) * settings.time_scale


def plan_reply(
    incoming_text: str,
    reply_text: str,
    settings: PacingSettings,
    *,
    seed: int | str | bytes,
) -> tuple[PlannedMessage, ...]:
    """Split ``reply_text`` into messages and give each its typing delay.

    The same arguments always give the same plan (the jitter comes from
    :class:`SeededDraws`; the runtime seeds with the visitor message id, so a plan is
    reproducible from a log line). Returns an empty tuple for a blank reply.
    """
    rng = SeededDraws(seed)
    parts = split_reply(reply_text, settings.max_message_chars)
    return tuple(
        PlannedMessage(part, message_delay(incoming_text, part, settings, rng, follow_up=index > 0))
        for index, part in enumerate(parts)
    )


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_reply(text: str, max_chars: int) -> list[str]:
    """Cut ``text`` into stripped, non-empty parts of at most ``max_chars`` characters.

    Text that fits is returned whole. Otherwise every paragraph break starts a new part, and
    a paragraph too long for one part is cut at sentence ends (sentences packed greedily),
    then at whitespace; a single word longer than ``max_chars`` is cut hard.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    text = text.strip()
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        # A reply too long for one message is cut at every paragraph break (a person sends
        # each paragraph on its own); inside a paragraph, sentences are packed greedily.
        current = ""
        for sentence in _split_long(paragraph.strip(), max_chars):
            if not current:
                current = sentence
            elif len(current) + 1 + len(sentence) <= max_chars:
                current = f"{current} {sentence}"
            else:
                parts.append(current)
                current = sentence
        if current:
            parts.append(current)
    return parts


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    """Split one paragraph into sentences, and over-long sentences at spaces."""
    if len(paragraph) <= max_chars:
        return [paragraph]
    out: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        sentence = sentence.strip()
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars + 1)
            if cut <= 0:
                cut = max_chars
            out.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        if sentence:
            out.append(sentence)
    return out
