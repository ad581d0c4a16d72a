"""Find the question inside a visitor's message: sentences, minus greetings and signatures.

Visitors write letters: "Hello, I hope you are well. My bike makes a noise. What time do you
open on Saturday? Thank you very much, Martin". Matched whole, the greeting, the story and
the signature dilute every FAQ question's score until none is confident. So a message is
split into sentences; greetings, thanks, sign-offs and a trailing name are set aside; and the
matcher scores every candidate entry on the best of the remaining *parts* (each sentence,
and the core text as a whole, because some questions span two sentences).

Identifiers are masked first (agentbot's ``mask_identifiers``): an order number or an
e-mail address is not a word any FAQ question contains.

Pure functions, no state; the word lists cover English, Czech (with and without diacritics)
and German, matched on folded text (see text.fold).
"""

from __future__ import annotations

import re

from agentbot import mask_identifiers

from .text import fold

__all__ = ["message_parts", "strip_courtesy"]

# Whole-sentence courtesy: a sentence made only of these (folded) words carries no question.
_COURTESY_WORDS = frozenset(
    re.findall(
        r"\S+",
        """
    hi hello hey hallo helo hiya yo dear sir or madam team there all guys folks
    good morning afternoon evening day night greetings
    thanks thank you very much so lot many in advance cheers regards kind best wishes warm
    sincerely yours bye goodbye see soon have a nice great please pls thx ty
    i we hope you are is everything all well doing ok okay fine
    ahoj dobry den dobre rano odpoledne vecer zdravim cau caute nazdar mate se
    dekuji dekuju diky moc predem predem s pozdravem pozdravem hezky krasny prosim
    preji pekny vazeni pani pane
    guten tag morgen abend hallo servus gruss gruss gott danke vielen dank schonen
    freundlichen grussen mit liebe lieber sehr geehrte geehrter damen herren bitte
    """,
    )
)
_SIGN_OFF = re.compile(
    r"^(?:thanks?(?: you)?|many thanks|thank you very much|cheers|best|regards|kind regards|"
    r"best regards|best wishes|all the best|sincerely|yours|s pozdravem|dekuji|dekuju|diky|"
    r"predem dekuji|mit freundlichen grussen|viele grusse|danke|lg|mfg)\b",
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE = re.compile(r"\s*,\s*")
_MAX_PARTS = 6


def strip_courtesy(sentence: str) -> str:
    """Drop leading greeting words and a trailing sign-off (with a name) from one sentence.

    ``"Hi, my order has not arrived"`` → ``"my order has not arrived"``; ``"Thanks, Anna"``
    → ``""``. Returns the folded remainder ("" if nothing is left).
    """
    clauses = [fold(clause) for clause in _CLAUSE.split(sentence)]
    clauses = [clause for clause in clauses if clause]
    # Leading clauses made only of courtesy words ("hi", "dobry den", "hello there").
    while clauses and _is_courtesy(clauses[0]):
        clauses.pop(0)
    # A sign-off clause and whatever follows it (a name, a title) at the end.
    for position, clause in enumerate(clauses):
        after = clauses[position + 1 :]
        if _SIGN_OFF.match(clause) and len(after) <= 2 and all(len(c.split()) <= 3 for c in after):
            clauses = clauses[:position]
            break
    while clauses and _is_courtesy(clauses[-1]):
        clauses.pop()
    return " ".join(clauses)


def _is_courtesy(folded: str) -> bool:
    words = folded.split()
    return bool(words) and all(word in _COURTESY_WORDS for word in words)


def message_parts(text: str) -> list[str]:
    """Return the parts of ``text`` worth matching, the core text first.

    The core is every sentence that is not pure courtesy, joined; then, when there is more
    than one, each of those sentences (at most a handful, the question-like ones first).
    A message with nothing but courtesy ("hi", "thanks!") gives its folded text alone, so a
    greeting still reaches the matcher and can be told apart from silence by its score.
    """
    masked = mask_identifiers(text)
    sentences = [s for s in _SENTENCE_END.split(masked.strip()) if s.strip()]
    kept: list[tuple[bool, str]] = []
    last = ""
    for sentence in sentences:
        core = strip_courtesy(sentence)
        if core:
            kept.append((sentence.rstrip().endswith("?"), core))
            last = sentence
    if len(kept) > 1 and _is_signature(kept[-1][1], last):
        kept.pop()
    if not kept:
        folded = fold(masked)
        return [folded] if folded else []
    parts = [" ".join(core for _question, core in kept)]
    if len(kept) > 1:
        ranked = sorted(kept, key=lambda item: not item[0])  # questions first, stable
        parts += [core for _question, core in ranked[:_MAX_PARTS]]
    return parts


def _is_signature(core: str, sentence: str) -> bool:
    """A last line like "Martin" or "Ing. Pavel Dvořák, purchasing": short, no question."""
    return len(core.split()) <= 3 and not sentence.rstrip().endswith("?") and sentence[:1].isupper()
