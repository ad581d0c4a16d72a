"""Feedback from visitors: which "did you mean…?" choice they picked, and yes/no to answers.

A visitor who picks suggestion 2 after "did you mean…?" tells us which entry their question
was about; one who answers "yes" to "did that answer your question?" confirms the entry, and
"no" refutes it. Each signal is stored (question masked of identifiers, entry id, time) in
the faq plugin's storage; :func:`feedback_cases` turns the confirming ones into labelled
eval cases, so ``agentbot faq eval --feedback`` measures the matcher on real questions, and
:func:`feedback_lines` summarises the refuted entries.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from .evaluate import EvalCase, split_of
from .gaps import Store, mask_text, store_newest

__all__ = [
    "FEEDBACK_PREFIX",
    "feedback_cases",
    "feedback_lines",
    "load_feedback",
    "record_feedback",
]

FEEDBACK_PREFIX = "feedback-case:"
"""Storage keys of feedback records start with this, then the time (sortable)."""

MAX_FEEDBACK = 20_000
"""The oldest records are dropped past this many."""

Signal = Literal["choice", "yes", "no"]


def record_feedback(
    store: Store, *, question: str, entry_id: str, signal: Signal, time: float
) -> None:
    """Store one signal about ``entry_id`` for ``question`` (masked of identifiers)."""
    masked = mask_text(question)
    if not masked:
        return
    record = {"question": masked, "entry": entry_id, "signal": signal, "time": time}
    key = f"{time:017.6f}:{entry_id}:{signal}"
    store_newest(store, FEEDBACK_PREFIX, key, record, keep=MAX_FEEDBACK)


def load_feedback(store: Store) -> list[dict[str, object]]:
    """Return the stored feedback records, oldest first (malformed ones skipped)."""
    found = []
    for key in sorted(store.keys(FEEDBACK_PREFIX)):
        value = store.get(key)
        if isinstance(value, dict) and isinstance(value.get("question"), str):
            found.append(value)
    return found


def feedback_cases(store: Store, *, known: set[str] | None = None) -> tuple[EvalCase, ...]:
    """Return eval cases from confirmed feedback: a pick or a "yes" labels the question.

    A question confirmed for one entry and refuted for the same entry later is dropped;
    entries not in ``known`` (removed from the FAQ since) are skipped.
    """
    latest: dict[tuple[str, str], str] = {}
    for record in load_feedback(store):
        latest[(str(record["question"]), str(record["entry"]))] = str(record["signal"])
    cases = [
        EvalCase(question, entry, kind=f"feedback-{signal}", split=split_of(question))
        for (question, entry), signal in latest.items()
        if signal in ("choice", "yes") and (known is None or entry in known)
    ]
    return tuple(cases)


def feedback_lines(store: Store) -> list[str]:
    """Summarise the signals: how many of each, and the entries most often refuted."""
    records = load_feedback(store)
    signals = Counter(str(r["signal"]) for r in records)
    refuted = Counter(str(r["entry"]) for r in records if r["signal"] == "no")
    lines = [
        f"feedback: {signals['choice']} suggestion picks, {signals['yes']} yes, {signals['no']} no"
    ]
    for entry, count in refuted.most_common(5):
        lines.append(f"  answered but did not help: {entry} ({count})")
    return lines
