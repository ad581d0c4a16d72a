"""Recognise a visitor asking for a human: configurable phrases per language.

Phrases and messages are compared after the FAQ normaliser's folding (case, accents,
punctuation), as whole-word sequences: "human" matches "Can I talk to a HUMAN?" but not
"humanity". A phrase preceded closely by a negation ("I don't need a human", "nechci
operátora", "kein Mensch") does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..faq.text import fold

__all__ = ["DEFAULT_PHRASES", "PhraseMatcher"]

DEFAULT_PHRASES: dict[str, list[str]] = {
    "en": [
        "human", "real person", "a person", "live agent", "an agent", "real agent", "operator",
        "representative", "talk to someone", "speak to someone", "speak with someone",
        "talk to somebody", "someone real", "customer service", "your colleague",
    ],
    "cs": [
        "člověk", "člověka", "člověkem", "živý člověk", "operátor", "operátora", "operátorem",
        "s někým mluvit", "mluvit s někým", "pracovník", "pracovníka", "pracovníkem",
        "kolega", "kolegu", "kolegou", "s obsluhou", "skutečný člověk",
    ],
    "de": [
        "mensch", "menschen", "mitarbeiter", "mitarbeiterin", "echte person", "berater",
        "beraterin", "mit jemandem sprechen", "kundendienst", "kundenservice",
    ],
}  # fmt: skip
"""Defaults per language; configured lists replace a language's list."""

_NEGATIONS = frozenset(
    ["not", "dont", "no", "never", "without", "nechci", "nepotrebuji", "nepotrebuju", "ne",
     "bez", "nicht", "kein", "keine", "keinen", "ohne"]
)  # fmt: skip
_NEGATION_WINDOW = 3


class PhraseMatcher:
    """Match messages against phrases of every configured language."""

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        self.phrases: tuple[tuple[str, ...], ...] = tuple(
            sorted(
                {tuple(fold(p).split()) for texts in phrases.values() for p in texts if fold(p)},
                key=len,
                reverse=True,
            )
        )

    def find(self, text: str) -> str | None:
        """Return the (folded) phrase a message asks for a human with, or None."""
        words = fold(text).split()
        for phrase in self.phrases:
            size = len(phrase)
            for start in range(len(words) - size + 1):
                if tuple(words[start : start + size]) != phrase:
                    continue
                before = words[max(0, start - _NEGATION_WINDOW) : start]
                if not _NEGATIONS.intersection(before):
                    return " ".join(phrase)
        return None
