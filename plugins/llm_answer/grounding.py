"""The post-check that keeps a model from inventing prices and policies.

A model asked to answer "only from the context" still rounds, converts and guesses: "about
5 %", "free over 1000 Kč" when the FAQ says 1 200. The plugin therefore drops every answer
that states a number (an amount, a percentage, a count, a time of day) not written in the
retrieved context. Numbers are compared by value, so "1 200", "1,200" and "1200" are the
same number, and "1.5" and "1,5" too; "15" is not "1.5".

Numbers spelt out in words ("five days") are not checked: the system prompt forbids them
and the model rarely uses them, but this check cannot see them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["numbers_in", "ungrounded_numbers"]

# A number as people write one: digit groups split by spaces (also no-break and thin ones),
# commas or dots, and an optional decimal part.
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d+)*")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")


def _value(written: str) -> str:
    """Return the canonical value of one written number, e.g. ``"1 200,50"`` → ``"1200.5"``."""
    text = _GROUP_SPACES.sub("", written)
    separators = [c for c in text if c in ".,"]
    if separators:
        last = max(text.rfind("."), text.rfind(","))
        decimals = text[last + 1 :]
        # "1,200" / "1.200.000": a lone kind of separator before exactly 3 digits groups
        # thousands; anything else ("1.5", "1,50", "1.200,5") ends with the decimal part.
        if len(set(separators)) == 1 and len(decimals) == 3:
            text = text.replace(separators[0], "")
        else:
            text = text[:last].replace(".", "").replace(",", "") + "." + decimals
    try:
        return str(Decimal(text).normalize())
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return text


def numbers_in(text: str) -> set[str]:
    """Return the canonical values of every number written in ``text``.

    Each match is also read digit group by digit group, so a context saying "9-17" or
    "1.5.2025" grounds "9", "17", "1", "5" and "2025" as well.
    """
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        written = match.group(0)
        found.add(_value(written))
        found.update(_value(part) for part in re.findall(r"\d+", written))
    return found


def ungrounded_numbers(answer: str, context: str) -> list[str]:
    """Return the numbers written in ``answer`` whose value the ``context`` never states."""
    known = numbers_in(context)
    return [
        match.group(0) for match in _NUMBER.finditer(answer) if _value(match.group(0)) not in known
    ]
