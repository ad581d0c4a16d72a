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

__all__ = ["fold", "stem", "terms", "words"]

_WORD = re.compile(r"[^\W_]+")
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
    if not text.isascii():  # the common case needs no Unicode work
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
