"""Candidate replies and how the runtime picks one.

Plugins answer a visitor message with values, not side effects (DESIGN.md, runtime): each
returns a :class:`Reply` (or nothing) and the runtime picks the best, so a greeter, an FAQ
and a fallback compose without knowing about each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

__all__ = ["Candidate", "Reply", "choose_reply"]


def _confidence(_instance: object, _attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0) or math.isnan(value):
        raise ValueError(f"confidence must be a number between 0 and 1, got {value!r}")


def _text(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a reply needs non-blank text")


@attrs.frozen
class Reply:
    """A candidate answer to a visitor message.

    ``confidence`` (0–1) says how sure the plugin is that this is the right answer: an exact
    FAQ match might say 0.9, a catch-all fallback 0.1. The runtime sends the candidate with the
    highest confidence; among equals, the one from the plugin that comes first in the plugin
    order. Long text is split into several messages by the pacing rules.
    """

    text: str = attrs.field(validator=_text)
    confidence: float = attrs.field(default=1.0, validator=_confidence)


@attrs.frozen
class Candidate:
    """A reply together with the plugin that proposed it and that plugin's rank."""

    plugin: str
    rank: int
    reply: Reply


def choose_reply(
    candidates: Sequence[Candidate], *, min_confidence: float = 0.0
) -> Candidate | None:
    """Return the best candidate: highest confidence, then lowest rank; None if none qualify."""
    qualified = [c for c in candidates if c.reply.confidence >= min_confidence]
    if not qualified:
        return None
    return min(qualified, key=lambda c: (-c.reply.confidence, c.rank))
