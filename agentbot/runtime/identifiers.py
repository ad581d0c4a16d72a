"""Find the identifiers in a visitor's message: order numbers, e-mails, phones, URLs, amounts.

Visitors paste identifiers into their questions ("order 2024118 hasn't arrived, my e-mail is
jana@seznam.cz"). Two things follow: a plugin that acts on the order wants the number as a
typed value, and a matcher that compares the message with FAQ questions must not see it,
because ``2024118`` and ``seznam`` are words no FAQ question contains, and they dilute every
score. This module is pure (no I/O, no state): :func:`extract_identifiers` returns typed
spans, :func:`mask_identifiers` the text with each span replaced by a placeholder.

The patterns are deliberately conservative: a bare number counts as an order number only
when it is long enough (5+ digits) or follows a word like "order" / "objednávka" /
"Bestellung" / "#"; a phone needs 9+ digits; an amount needs a currency. A year ("2024"), a
size ("42") or a height ("180 cm") stays ordinary text.
"""

from __future__ import annotations

import re
from typing import Literal

import attrs

__all__ = ["Identifier", "IdentifierKind", "extract_identifiers", "mask_identifiers"]

IdentifierKind = Literal["email", "url", "phone", "amount", "order"]

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}"
_URL = r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]"
_CURRENCY = r"(?:czk|kč|kc|eur|euro|eura|€|\$|usd|£|gbp|pln|zł)"
_NUMBER = r"\d{1,3}(?:[ \u00a0.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = rf"(?:{_CURRENCY}\s?(?:{_NUMBER})|(?:{_NUMBER})\s?(?:,-\s?)?{_CURRENCY})(?![\w])"
_PHONE = (
    r"(?:\+|00)\d{1,3}[ \u00a0-]?\d{2,4}(?:[ \u00a0-]?\d{2,4}){2,3}"
    r"|\d{3}[ \u00a0-]\d{3}[ \u00a0-]\d{3}"
)
_ORDER_WORDS = (
    r"order|orders|objednávk[aouy]|objednavk[aouy]|objednávce|objednavce|bestellung|"
    r"bestellnummer|auftrag|č\.|c\.|no\.|nr\.|number|číslo|cislo"
)
# After an order word or "#", 3+ digits are enough; a bare code needs 5+ digits.
_ORDER_AFTER_WORD = (
    rf"(?:\b(?:{_ORDER_WORDS})(?:\s*:)?\s*#?|#)(?P<worded>[A-Za-z]{{0,4}}-?\d{{3,}}(?:-\d+)?)"
)
_ORDER = r"(?<![\w#-])(?:[A-Za-z]{2,4}-)?\d{5,12}(?![\w-])"
_PATTERN = re.compile(
    rf"(?P<email>{_EMAIL})|(?P<url>{_URL})|(?P<phone>{_PHONE})|(?P<amount>{_AMOUNT})"
    rf"|{_ORDER_AFTER_WORD}|(?P<order>{_ORDER})",
    re.IGNORECASE,
)
_KINDS: tuple[tuple[str, IdentifierKind], ...] = (
    ("email", "email"),
    ("url", "url"),
    ("phone", "phone"),
    ("amount", "amount"),
    ("worded", "order"),
    ("order", "order"),
)


@attrs.frozen
class Identifier:
    """One identifier found in a text: its kind, the text as written, and where it is."""

    kind: IdentifierKind
    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """A normalised form: lower-case e-mail, digits of a phone, number of an order."""
        if self.kind == "email":
            return self.text.lower()
        if self.kind == "phone":
            return ("+" if self.text.startswith(("+", "00")) else "") + re.sub(
                r"\D", "", self.text.removeprefix("00")
            )
        return self.text


def extract_identifiers(text: str) -> tuple[Identifier, ...]:
    """Return the identifiers in ``text``, in order of appearance, never overlapping.

    E-mails win over URLs and URLs over numbers inside them; a phone wins over an order
    number; an amount needs a currency sign or code next to the number.
    """
    found: list[Identifier] = []
    for match in _PATTERN.finditer(text):
        for group, kind in _KINDS:
            if match.group(group) is not None:
                start, end = match.span(group)
                found.append(Identifier(kind, text[start:end], start, end))
                break
    return tuple(found)


def mask_identifiers(text: str, *, placeholder: str = " ") -> str:
    """Return ``text`` with every identifier replaced by ``placeholder``.

    ``placeholder`` may contain ``{kind}`` (e.g. ``"<{kind}>"``) to keep what was there.
    """
    pieces: list[str] = []
    position = 0
    for identifier in extract_identifiers(text):
        pieces.append(text[position : identifier.start])
        pieces.append(placeholder.format(kind=identifier.kind))
        position = identifier.end
    pieces.append(text[position:])
    return "".join(pieces)
