"""Measure the matcher on a labelled file: precision@1, wrong answers, silence.

The labelled file is TOML::

    faq = "faq.toml"                  # the FAQ it tests, relative to this file

    [expect]                          # entry id = questions that entry must answer
    opening-hours = ["what time do you open", "opening hours pls"]

    [must_not_answer]                 # questions no entry answers
    questions = ["what's the weather like"]

    [kind.casual.expect]              # optional: the same, grouped by kind of question
    opening-hours = ["u open 2day?"]
    [kind.greeting]
    must_not_answer = ["hi"]

Questions may hold identifier placeholders (``{order}``, ``{email}``, ``{phone}``, ``{url}``,
``{amount}``): each such question is expanded into ``IDENTIFIER_VARIANTS`` questions with
values from a generator seeded by the question, so a file always yields the same set.

Every question falls into the ``tune`` or the ``test`` split by a seeded hash of its text as
written (before expansion, so the variants of one template stay together): thresholds and
weights are chosen on ``tune``; figures reported as held out come from ``test``.

Outcomes per question: *answered* (right or wrong entry), *clarified* ("did you mean…?"),
or *silent*. The figures:

* precision@1 — of the answerable questions the bot answered, the share it answered right;
* wrong-answer rate — answerable questions answered with the wrong entry, over all
  answerable questions;
* silence rate — answerable questions left unanswered (silent), over all answerable ones;
* clarify rate — answerable questions met with "did you mean…?";
* must-not-answer kept quiet — must-not-answer questions left silent or clarified.
"""

from __future__ import annotations

import hashlib
import random
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from .decision import DEFAULT_LEAD_MARGIN, Decision, decide
from .entries import FaqFile, FaqFileError, load_faq
from .matcher import Match

__all__ = [
    "IDENTIFIER_VARIANTS",
    "SPLIT_SEED",
    "Calibration",
    "EvalCase",
    "EvalReport",
    "EvalSet",
    "Split",
    "calibrate",
    "calibrate_lead",
    "evaluate",
    "evaluate_by_kind",
    "load_eval_set",
    "split_of",
]

Split = Literal["tune", "test"]

SPLIT_SEED = "agentbot-faq-eval-split-1"
"""Salt of the tune/test hash; changing it reshuffles every set (never do it to tune)."""

IDENTIFIER_VARIANTS = 2
"""How many questions each identifier template expands into."""

_PLACEHOLDER = re.compile(r"\{(order|email|phone|url|amount)\}")


def split_of(question: str) -> Split:
    """Return the split of a question as written: half "tune", half "test", fixed forever."""
    digest = hashlib.blake2b(f"{SPLIT_SEED}:{question}".encode(), digest_size=8).digest()
    return "test" if digest[0] & 1 else "tune"


def _fill(template: str, rng: random.Random) -> str:
    def value(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "order":
            return rng.choice(["", "#", "PED-", "no. "]) + str(rng.randint(100000, 9999999))
        if kind == "email":
            name = rng.choice(["jana.novakova", "petr.svoboda", "mike77", "k.muller", "eva"])
            return f"{name}@{rng.choice(['seznam.cz', 'gmail.com', 'example.org', 'web.de'])}"
        if kind == "phone":
            return rng.choice(["+420 ", "", "00420 "]) + " ".join(
                str(rng.randint(100, 999)) for _ in range(3)
            )
        if kind == "url":
            slug = rng.choice(["trail-29-m", "helmet-aero-l", "gravel-pro", "lock-x2"])
            return f"https://{rng.choice(['pedalo.example', 'www.pedalo.example'])}/p/{slug}"
        amount = rng.randint(3, 900) * 10
        return rng.choice([f"{amount} CZK", f"{amount} Kč", f"{amount},- Kč", f"€{amount // 25}"])

    return _PLACEHOLDER.sub(value, template)


def _expand(template: str) -> list[str]:
    if not _PLACEHOLDER.search(template):
        return [template]
    rng = random.Random(f"{SPLIT_SEED}:{template}")
    return [_fill(template, rng) for _ in range(IDENTIFIER_VARIANTS)]


@attrs.frozen
class EvalCase:
    """One labelled question: ``expected`` is an entry id, or None for must-not-answer."""

    question: str
    expected: str | None
    kind: str = "plain"
    """The kind of question (``[kind.NAME]`` in the file; "plain" outside any)."""
    split: Split = "tune"
    """Which split the question belongs to (see :func:`split_of`)."""


@attrs.frozen
class EvalSet:
    """A labelled file and the FAQ it tests."""

    faq: FaqFile
    cases: tuple[EvalCase, ...]

    def select(self, split: Split | None) -> tuple[EvalCase, ...]:
        """Return the cases of ``split`` (None: all of them)."""
        return self.cases if split is None else tuple(c for c in self.cases if c.split == split)


@attrs.frozen
class EvalReport:
    """Counts of outcomes, and the figures derived from them."""

    answerable: int
    answered_right: int
    answered_wrong: int
    clarified: int
    silent: int
    must_not_answer: int
    mna_answered: int
    mna_clarified: int
    failures: tuple[tuple[EvalCase, str, Decision], ...] = ()
    """(case, what happened, decision) for every wrong answer and answered must-not-answer."""

    @property
    def precision_at_1(self) -> float:
        """Right answers over answers given to answerable questions."""
        answered = self.answered_right + self.answered_wrong
        return self.answered_right / answered if answered else 1.0

    @property
    def wrong_answer_rate(self) -> float:
        """Wrong answers over answerable questions."""
        return self.answered_wrong / self.answerable if self.answerable else 0.0

    @property
    def silence_rate(self) -> float:
        """Silent outcomes over answerable questions."""
        return self.silent / self.answerable if self.answerable else 0.0

    @property
    def clarify_rate(self) -> float:
        """ "Did you mean…?" outcomes over answerable questions."""
        return self.clarified / self.answerable if self.answerable else 0.0

    @property
    def answer_rate(self) -> float:
        """Right answers over answerable questions (how often the bot actually helped)."""
        return self.answered_right / self.answerable if self.answerable else 0.0

    @property
    def must_not_answer_quiet_rate(self) -> float:
        """Must-not-answer questions left silent or clarified, over all of them."""
        if not self.must_not_answer:
            return 1.0
        return 1.0 - self.mna_answered / self.must_not_answer

    def summary_lines(self) -> list[str]:
        """Return the report as lines for a terminal."""
        return [
            f"answerable questions:       {self.answerable}",
            f"  precision@1:              {self.precision_at_1:.3f}",
            f"  answered right:           {self.answer_rate:.3f} ({self.answered_right})",
            f"  wrong-answer rate:        {self.wrong_answer_rate:.3f} ({self.answered_wrong})",
            f"  clarify rate:             {self.clarify_rate:.3f} ({self.clarified})",
            f"  silence rate:             {self.silence_rate:.3f} ({self.silent})",
            f"must-not-answer questions:  {self.must_not_answer}",
            f"  left silent or clarified: {self.must_not_answer_quiet_rate:.3f} "
            f"({self.must_not_answer - self.mna_answered}; {self.mna_clarified} clarified)",
        ]


def load_eval_set(path: str | Path) -> EvalSet:
    """Read a labelled file and its FAQ; raise :class:`FaqFileError` on any problem."""
    where = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise FaqFileError(f"{where}: no such file", path=where) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FaqFileError(f"{where}: invalid TOML: {exc}", path=where) from None
    except OSError as exc:
        raise FaqFileError(f"{where}: cannot read: {exc.strerror}", path=where) from None
    faq_name = data.get("faq")
    if not isinstance(faq_name, str):
        raise FaqFileError(f'{where}: needs faq = "<path of the FAQ file>"', path=where)
    faq = load_faq(Path(path).parent / faq_name)
    known = {entry.id for entry in faq.entries}
    cases: list[EvalCase] = []
    groups: list[tuple[str, Any, Any]] = [
        ("plain", data.get("expect", {}), _mna(data.get("must_not_answer", {}), where, ""))
    ]
    kinds = data.get("kind", {})
    if not isinstance(kinds, Mapping):
        raise FaqFileError(f"{where}: [kind] must be a table of tables", path=where)
    for name, table in kinds.items():
        if not isinstance(table, Mapping):
            raise FaqFileError(f"{where}: [kind.{name}] must be a table", path=where)
        groups.append((name, table.get("expect", {}), table.get("must_not_answer", [])))
    for kind, expect, quiet in groups:
        if not isinstance(expect, Mapping):
            raise FaqFileError(f"{where}: [expect] of {kind} must be a table", path=where)
        for entry_id, questions in expect.items():
            if entry_id not in known:
                raise FaqFileError(f"{where}: [expect] {entry_id}: no such entry id", path=where)
            cases.extend(_cases(_questions(questions, where, entry_id), entry_id, kind))
        cases.extend(_cases(_questions(quiet, where, "must_not_answer"), None, kind))
    return EvalSet(faq=faq, cases=tuple(cases))


def _mna(value: Any, where: str, _key: str) -> Any:
    if not isinstance(value, Mapping):
        raise FaqFileError(f"{where}: [must_not_answer] must be a table", path=where)
    return value.get("questions", [])


def _cases(questions: Iterable[str], expected: str | None, kind: str) -> list[EvalCase]:
    return [
        EvalCase(question, expected, kind=kind, split=split_of(template))
        for template in questions
        for question in _expand(template)
    ]


def _questions(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(q, str) for q in value):
        return value
    raise FaqFileError(f"{where}: {key} must be a list of strings", path=where)


CALIBRATION_MAX_WRONG = 0.03
"""Calibration keeps wrong answers at or below this share of the answerable questions."""

CALIBRATION_MIN_QUIET = 0.93
"""Calibration keeps at least this share of must-not-answer questions unanswered."""

CLARIFY_GAP = 0.12
"""The clarify threshold sits this far below the answer threshold."""


def calibrate(
    cases: Sequence[EvalCase],
    search: Callable[[str], Sequence[Match]],
    *,
    margin: float,
    max_wrong: float = CALIBRATION_MAX_WRONG,
    min_quiet: float = CALIBRATION_MIN_QUIET,
) -> tuple[float, float]:
    """Return the (answer, clarify) thresholds that answer most of ``cases`` right.

    Among thresholds 0.20-0.95 (step 0.01) that keep wrong answers at most ``max_wrong``
    and must-not-answer questions quiet at least ``min_quiet``, the lowest one with the
    most right answers wins (the highest threshold if none qualifies). Run it on a tune
    split only: figures on the cases it was calibrated on are not held out.
    """
    ranked = [(case, list(search(case.question))) for case in cases]
    best: tuple[int, float] | None = None
    for step in range(20, 96):
        threshold = step / 100
        clarify = max(threshold - CLARIFY_GAP, 0.0)
        report = evaluate(
            tuple(case for case, _m in ranked),
            dict(
                (
                    case.question,
                    decide(m, threshold=threshold, clarify_threshold=clarify, margin=margin),
                )
                for case, m in ranked
            ).__getitem__,
        )
        if report.wrong_answer_rate > max_wrong or report.must_not_answer_quiet_rate < min_quiet:
            continue
        if best is None or report.answered_right > best[0]:
            best = (report.answered_right, threshold)
    threshold = best[1] if best is not None else 0.95
    return threshold, round(max(threshold - CLARIFY_GAP, 0.0), 2)


@attrs.frozen
class Calibration:
    """A decision rule found on a tune split: the arguments of :func:`decision.decide`."""

    threshold: float
    clarify_threshold: float
    lead_threshold: float | None
    """None: no lead rule was worth it."""
    lead_margin: float


def calibrate_lead(
    cases: Sequence[EvalCase],
    search: Callable[[str], Sequence[Match]],
    *,
    margin: float,
    also: Sequence[tuple[Sequence[EvalCase], Callable[[str], Sequence[Match]]]] = (),
    max_wrong: float = CALIBRATION_MAX_WRONG,
    min_quiet: float = CALIBRATION_MIN_QUIET,
) -> Calibration:
    """Calibrate the threshold and the lead rule of :func:`decision.decide` together.

    Tries answer thresholds 0.30-0.90 (step 0.01), lead thresholds from 0.20 up to the
    answer threshold (step 0.02, or none) and lead margins 0.04-0.20 (step 0.02). A rule
    qualifies when, on ``cases`` and on every ``also`` set (other tuned-on sets with their
    own search), wrong answers stay within ``max_wrong`` and must-not-answer questions
    quiet at least ``min_quiet``; among those, most right answers (all sets) wins, then
    fewest wrong, then the highest (most careful) values. Tune sets only, like
    :func:`calibrate`: a low lead threshold fits the questions it was chosen on.
    """
    groups: list[list[tuple[str | None, str | None, float, float]]] = []
    for group_cases, group_search in ((cases, search), *also):
        # (expected, best entry id, best score, lead over the runner-up) per case.
        rows = []
        for case in group_cases:
            matches = list(group_search(case.question))
            best = matches[0].score if matches else 0.0
            second = matches[1].score if len(matches) > 1 else 0.0
            top = matches[0].entry.id if matches else None
            rows.append((case.expected, top, best, best - second))
        groups.append(rows)
    limits = [
        (
            max_wrong * sum(1 for row in rows if row[0] is not None),
            (1.0 - min_quiet) * sum(1 for row in rows if row[0] is None),
        )
        for rows in groups
    ]
    leads: list[tuple[float | None, float]] = [(None, DEFAULT_LEAD_MARGIN)]
    leads += [(t / 100, m / 100) for t in range(20, 91, 2) for m in range(4, 21, 2)]
    best_key: tuple[int, int, float, float, float] | None = None
    best_rule = Calibration(0.95, 0.83, None, DEFAULT_LEAD_MARGIN)
    for lead_threshold, lead_margin in leads:
        floor = 2.0 if lead_threshold is None else lead_threshold
        for step in range(30, 91):
            threshold = step / 100
            if floor < 2.0 and floor > threshold:
                continue
            right = wrong = 0
            fits = True
            for rows, (wrong_limit, loud_limit) in zip(groups, limits, strict=True):
                group_right = group_wrong = loud = 0
                for expected, top, best, lead in rows:
                    if not (
                        (best >= threshold and lead >= margin)
                        or (best >= floor and lead >= lead_margin)
                    ):
                        continue
                    if expected is None:
                        loud += 1
                    elif expected == top:
                        group_right += 1
                    else:
                        group_wrong += 1
                if group_wrong > wrong_limit or loud > loud_limit:
                    fits = False
                    break
                right += group_right
                wrong += group_wrong
            if not fits:
                continue
            key = (right, -wrong, threshold, floor, lead_margin)
            if best_key is None or key > best_key:
                best_key = key
                best_rule = Calibration(
                    threshold,
                    _clarify_below(threshold, lead_threshold),
                    lead_threshold,
                    lead_margin,
                )
    return best_rule


def _clarify_below(threshold: float, lead_threshold: float | None) -> float:
    """The clarify threshold: ``CLARIFY_GAP`` below the threshold, and no higher than the
    lead rule's, so a best match the lead rule does not answer is still offered."""
    clarify = max(threshold - CLARIFY_GAP, 0.0)
    if lead_threshold is not None:
        clarify = min(clarify, lead_threshold)
    return round(clarify, 2)


def evaluate_by_kind(
    cases: Sequence[EvalCase], ask: Callable[[str], Decision]
) -> dict[str, EvalReport]:
    """Return one report per kind of question (see :class:`EvalCase`)."""
    kinds: dict[str, list[EvalCase]] = {}
    for case in cases:
        kinds.setdefault(case.kind, []).append(case)
    return {kind: evaluate(tuple(group), ask) for kind, group in kinds.items()}


def evaluate(cases: Sequence[EvalCase], ask: Callable[[str], Decision]) -> EvalReport:
    """Run every case through ``ask`` (question → decision) and count the outcomes."""
    counts = dict.fromkeys(("right", "wrong", "clarified", "silent", "mna", "mna_c"), 0)
    answerable = must_not = 0
    failures: list[tuple[EvalCase, str, Decision]] = []
    for case in cases:
        decision = ask(case.question)
        best = decision.best
        if case.expected is None:
            must_not += 1
            if decision.kind == "answer" and best is not None:
                counts["mna"] += 1
                failures.append((case, f"answered with {best.entry.id}", decision))
            elif decision.kind == "clarify":
                counts["mna_c"] += 1
            continue
        answerable += 1
        if decision.kind == "answer" and best is not None:
            if best.entry.id == case.expected:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
                failures.append((case, f"answered with {best.entry.id}", decision))
        elif decision.kind == "clarify":
            counts["clarified"] += 1
        else:
            counts["silent"] += 1
    return EvalReport(
        answerable=answerable,
        answered_right=counts["right"],
        answered_wrong=counts["wrong"],
        clarified=counts["clarified"],
        silent=counts["silent"],
        must_not_answer=must_not,
        mna_answered=counts["mna"],
        mna_clarified=counts["mna_c"],
        failures=tuple(failures),
    )
