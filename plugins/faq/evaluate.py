"""Measure the matcher on a labelled file: precision@1, wrong answers, silence.

The labelled file is TOML::

    faq = "faq.toml"                  # the FAQ it tests, relative to this file

    [expect]                          # entry id = questions that entry must answer
    opening-hours = ["what time do you open", "opening hours pls"]

    [must_not_answer]                 # questions no entry answers
    questions = ["what's the weather like"]

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

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .decision import Decision
from .entries import FaqFile, FaqFileError, load_faq

__all__ = ["EvalCase", "EvalReport", "EvalSet", "evaluate", "load_eval_set"]


@attrs.frozen
class EvalCase:
    """One labelled question: ``expected`` is an entry id, or None for must-not-answer."""

    question: str
    expected: str | None


@attrs.frozen
class EvalSet:
    """A labelled file and the FAQ it tests."""

    faq: FaqFile
    cases: tuple[EvalCase, ...]


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
    expect = data.get("expect", {})
    if not isinstance(expect, Mapping):
        raise FaqFileError(f"{where}: [expect] must be a table", path=where)
    for entry_id, questions in expect.items():
        if entry_id not in known:
            raise FaqFileError(f"{where}: [expect] {entry_id}: no such entry id", path=where)
        cases.extend(EvalCase(q, entry_id) for q in _questions(questions, where, entry_id))
    quiet = data.get("must_not_answer", {})
    if not isinstance(quiet, Mapping):
        raise FaqFileError(f"{where}: [must_not_answer] must be a table", path=where)
    cases.extend(
        EvalCase(q, None) for q in _questions(quiet.get("questions", []), where, "questions")
    )
    return EvalSet(faq=faq, cases=tuple(cases))


def _questions(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(q, str) for q in value):
        return value
    raise FaqFileError(f"{where}: {key} must be a list of strings", path=where)


def evaluate(cases: tuple[EvalCase, ...], ask: Callable[[str], Decision]) -> EvalReport:
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
