"""What the bot could not answer: record the questions, group them, print the largest groups.

Every visitor question the FAQ did not answer — the bot stayed silent, asked "did you
mean…?", or another plugin (a hand-off, a fallback) took it — is kept in the faq plugin's
storage as a *gap*: the text with identifiers masked (an order number or an e-mail address
is nobody's business in a report), the chat id, the time and the outcome. ``agentbot faq
gaps`` groups similar gaps and prints the largest groups with example questions, so a team
sees which entries to add first.

Grouping is greedy and cheap: gaps are compared by their matching terms (text.terms: folded,
stop words out, endings stripped) with rapidfuzz's ``token_set_ratio``; a gap joins the
first group whose first question is at least ``GROUP_SIMILARITY`` alike, else it starts a
group. Good enough for hundreds or thousands of gaps; the order of groups is by size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import attrs
from rapidfuzz import fuzz

from agentbot import mask_identifiers

from .text import terms

__all__ = [
    "GAP_PREFIX",
    "GROUP_SIMILARITY",
    "Gap",
    "GapGroup",
    "gap_lines",
    "group_gaps",
    "load_gaps",
    "record_gap",
]

GAP_PREFIX = "gap:"
"""Storage keys of gaps start with this, then the time and the message id (sortable)."""

GROUP_SIMILARITY = 60.0
"""token_set_ratio (0-100) at or above which a gap joins a group."""

MAX_GAPS = 20_000
"""The oldest gaps are dropped past this many (storage stays bounded)."""


class Store(Protocol):
    """The part of a plugin's key-value store this module uses."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> list[str]: ...


@attrs.frozen(kw_only=True)
class Gap:
    """One question the FAQ did not answer."""

    text: str
    chat_id: str
    time: float
    outcome: str
    """``silence``, ``clarify``, or ``other:<plugin>`` (that plugin's reply was chosen)."""


@attrs.frozen
class GapGroup:
    """Similar gaps, the first one standing for the group."""

    gaps: tuple[Gap, ...]

    @property
    def size(self) -> int:
        """How many gaps the group holds."""
        return len(self.gaps)


def record_gap(
    store: Store, *, text: str, chat_id: str, time: float, outcome: str, message_id: str
) -> None:
    """Store a gap (text masked of identifiers); drop the oldest past ``MAX_GAPS``."""
    masked = mask_text(text)
    if not masked:
        return
    record = {"text": masked, "chat_id": chat_id, "time": time, "outcome": outcome}
    store_newest(store, GAP_PREFIX, f"{time:017.6f}:{message_id}", record, keep=MAX_GAPS)


def mask_text(text: str) -> str:
    """Return ``text`` as the faq stores a visitor's words: identifiers masked, spaces folded.

    Shared by the gap log and the feedback log, so neither keeps an e-mail or a phone number.
    """
    return " ".join(mask_identifiers(text, placeholder="<{kind}>").split())


def store_newest(store: Store, prefix: str, key: str, value: Any, *, keep: int) -> None:
    """Store ``value`` under ``prefix + key`` and drop the oldest past ``keep`` entries.

    ``key`` starts with the zero-padded time, so the keys sort oldest first: the logs stay
    bounded on a long-running bot without a separate clean-up.
    """
    store.set(prefix + key, value)
    keys = store.keys(prefix)
    for old in sorted(keys)[: max(len(keys) - keep, 0)]:
        store.delete(old)


def load_gaps(store: Store, *, since: float | None = None) -> list[Gap]:
    """Return the stored gaps, oldest first (only those at or after ``since`` if given)."""
    found: list[Gap] = []
    for key in sorted(store.keys(GAP_PREFIX)):
        value = store.get(key)
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            continue  # a record of another version: skip rather than fail the report
        gap = Gap(
            text=value["text"],
            chat_id=str(value.get("chat_id", "")),
            time=float(value.get("time", 0.0)),
            outcome=str(value.get("outcome", "silence")),
        )
        if since is None or gap.time >= since:
            found.append(gap)
    return found


def group_gaps(gaps: Iterable[Gap], *, similarity: float = GROUP_SIMILARITY) -> list[GapGroup]:
    """Group similar gaps; return the groups, largest first (ties: earliest first)."""
    groups: list[tuple[str, list[Gap]]] = []
    for gap in gaps:
        key = " ".join(sorted(set(terms(gap.text))))
        for head, members in groups:
            if fuzz.token_set_ratio(key, head) >= similarity:
                members.append(gap)
                break
        else:
            groups.append((key, [gap]))
    ordered = sorted(groups, key=lambda item: -len(item[1]))  # stable: earliest first on ties
    return [GapGroup(tuple(members)) for _head, members in ordered]


def gap_lines(gaps: Sequence[Gap], *, top: int = 10, examples: int = 3) -> list[str]:
    """Describe the ``top`` largest groups of ``gaps`` with up to ``examples`` questions each."""
    if not gaps:
        return ["no unanswered questions recorded"]
    groups = group_gaps(gaps)
    first = dt.datetime.fromtimestamp(min(g.time for g in gaps), dt.UTC).date()
    last = dt.datetime.fromtimestamp(max(g.time for g in gaps), dt.UTC).date()
    lines = [
        f"{len(gaps)} unanswered questions ({first} to {last}) in {len(groups)} groups; "
        f"the {min(top, len(groups))} largest:",
        "",
    ]
    for rank, group in enumerate(groups[:top], 1):
        outcomes: dict[str, int] = {}
        for gap in group.gaps:
            outcomes[gap.outcome] = outcomes.get(gap.outcome, 0) + 1
        how = ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
        chats = len({gap.chat_id for gap in group.gaps})
        lines.append(f"{rank}. {group.size} questions in {chats} chats ({how})")
        seen: set[str] = set()
        for gap in group.gaps:
            if gap.text.casefold() in seen:
                continue
            seen.add(gap.text.casefold())
            lines.append(f"     {gap.text[:120]!r}")
            if len(seen) >= examples:
                break
    return lines
