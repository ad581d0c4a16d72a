"""Normalise text for matching: case, accents, punctuation, stop words and word endings.

The FAQ matcher compares what a visitor typed with questions someone wrote in a file, so both
sides go through the same steps here:

1. Unicode NFKD, then drop combining marks (``é`` → ``e``, ``ř`` → ``r``, ``ß`` stays ``ss``
   through casefold): Czech and German visitors often type without accents.
2. ``casefold`` (better than ``lower`` for German ``ß``).
3. Anything that is not a letter or digit becomes a space; apostrophes are dropped so
   ``don't`` → ``dont``.
4. Stop words of the language (or of every known language when it is unknown) go.
5. A light suffix stripper removes common inflection endings (English, Czech, German), so
   ``shipping``/``ships`` and ``objednávku``/``objednávka`` meet. It is deliberately crude and
   language-blind: the same function runs on both sides, so consistency matters more than
   linguistics, and a visitor's language is often unknown.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .stopwords import stop_words_for

__all__ = ["TermMemo", "fold", "stem", "terms", "words"]

_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # _WORD on casefolded ASCII text, a fifth faster
_APOSTROPHES = ("'", "’", "ʼ", "`", "´")

# Longest first; a suffix is removed only if at least _MIN_STEM characters remain.
_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            # English
            "ing",
            "ings",
            "ed",
            "es",
            "s",
            "ly",
            "ment",
            "ments",
            "ation",
            "ations",
            "er",
            "ers",
            "ies",
            "ied",
            "ion",
            "ions",
            # Czech (accents already stripped)
            "ami",
            "ach",
            "ech",
            "ich",
            "ych",
            "ymi",
            "emi",
            "ovi",
            "ove",
            "ova",
            "ovy",
            "eho",
            "emu",
            "ym",
            "em",
            "om",
            "ou",
            "a",
            "e",
            "i",
            "o",
            "u",
            "y",
            "ce",
            "ci",
            "ku",
            "ky",
            "ka",
            "ni",
            "nim",
            "nich",
            "im",
            "ost",
            "osti",
            "at",
            "it",
            "et",
            "ete",
            "ite",
            "ate",
            # German
            "en",
            "ern",
            "ung",
            "ungen",
            "heit",
            "keit",
            "lich",
            "isch",
        },
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 4


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one common inflection ending from a normalised word (cached: words repeat)."""
    if len(word) <= _MIN_STEM or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            word = word[: -len(suffix)]
            break
    # "shipping" → "shipp" → "ship": collapse a doubled final consonant.
    if len(word) > _MIN_STEM and word[-1] == word[-2] and word[-1] not in "aeiouy":
        word = word[:-1]
    return word


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without accents or punctuation, spaces collapsed."""
    return " ".join(words(text))


def words(text: str) -> list[str]:
    """Return the words of ``text``, folded as :func:`fold` describes."""
    for mark in _APOSTROPHES:  # str.replace beats a regex or str.translate here
        if mark in text:
            text = text.replace(mark, "")
    if text.isascii():  # the common case needs no Unicode work
        return _ASCII_WORD.findall(text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(text.casefold())


def terms(text: str, lang: str | None = None) -> list[str]:
    """Return the matching terms of ``text``: folded, stop words removed, endings stripped.

    If every word is a stop word (``"how are you?"``), the folded words are kept: a short
    question is still a question, and an empty query would match nothing or everything.
    """
    found = words(text)
    stops = stop_words_for(lang)
    kept = [word for word in found if word not in stops]
    return [stem(word) for word in (kept or found)]


class _WordTerms(dict[str, str]):
    """One language's word → term table, filled on first sight ("" for a stop word)."""

    def __init__(self, stops: frozenset[str]) -> None:
        super().__init__()
        self._stops = stops

    def __missing__(self, word: str) -> str:
        term = "" if word in self._stops else stem(word)  # a stem is never empty
        self[word] = term
        return term


class TermMemo:
    """:func:`terms` for many texts in a row, remembering every word's term as it goes.

    Building an index normalises tens of thousands of phrasings whose words repeat; looking a
    word up in a table beats the stop-word check and the stem call per occurrence. The table
    grows with the vocabulary, so keep a memo for one build and drop it: queries (visitor
    text, unbounded) go through :func:`terms`, whose stem cache is bounded. The results are
    exactly those of :func:`terms`.
    """

    def __init__(self) -> None:
        self._tables: dict[str | None, _WordTerms] = {}

    def __call__(self, text: str, lang: str | None = None) -> list[str]:
        return self.of_words(words(text), lang)

    def of_words(self, found: list[str], lang: str | None = None) -> list[str]:
        """:meth:`__call__` for words already split by :func:`words` (split once, use twice)."""
        table = self._tables.get(lang)
        if table is None:
            table = self._tables[lang] = _WordTerms(stop_words_for(lang))
        kept = list(filter(None, map(table.__getitem__, found)))
        return kept or [stem(word) for word in found]
