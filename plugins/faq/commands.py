"""What ``agentbot faq test`` and ``agentbot faq eval`` print (the CLI glue is in cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .decision import decide
from .evaluate import EvalReport, Split, evaluate, evaluate_by_kind, load_eval_set
from .feedback import feedback_cases, feedback_lines
from .gaps import gap_lines, load_gaps
from .matcher import METHOD_THRESHOLDS, FaqIndex, Method
from .plugin import Faq

__all__ = ["eval_report", "gaps_report", "match_lines"]


def gaps_report(store: Any, *, top: int = 10, examples: int = 3) -> list[str]:
    """Describe the largest groups of unanswered questions in the faq plugin's ``store``."""
    return [*gap_lines(load_gaps(store), top=top, examples=examples), "", *feedback_lines(store)]


def match_lines(faq: Faq, question: str, *, lang: str | None = None, limit: int = 5) -> list[str]:
    """Load ``faq`` (raising FaqFileError) and describe how it handles ``question``."""
    index = faq.load()
    matches = index.search(question, lang=lang, limit=limit)
    decision = faq.ask(question, lang=lang)
    lines = [
        f"{faq.path}: {len(index)} entries; method {faq.config.method}, threshold "
        f"{faq.threshold:.2f}, clarify {faq.clarify_threshold:.2f}"
        + ("" if faq.config.clarify else " (off)"),
        "",
    ]
    if not matches:
        lines.append("no entry shares a word with the question")
    for rank, match in enumerate(matches, 1):
        entry = match.entry
        lang_tag = f" [{entry.lang}]" if entry.lang else ""
        lines.append(f"{rank}. {match.score:.3f}  {entry.id}{lang_tag}: {entry.question}")
    lines += ["", f"decision: {decision.kind}"]
    if decision.kind == "answer" and decision.best is not None:
        lines.append(f"answer: {decision.best.entry.answer}")
    return lines


def eval_report(
    path: str | Path,
    *,
    method: Method = "blend",
    threshold: float | None = None,
    clarify_threshold: float | None = None,
    clarify: bool = True,
    split: Split | None = None,
    feedback_store: Any = None,
) -> tuple[EvalReport, list[str]]:
    """Run a labelled file; return the report and its lines (failures listed last).

    ``split`` keeps only the "tune" or "test" questions; ``feedback_store`` (the faq
    plugin's storage) adds the questions visitors confirmed (picked or said yes to).
    """
    eval_set = load_eval_set(path)
    cases = eval_set.select(split)
    if feedback_store is not None:
        known = {entry.id for entry in eval_set.faq.entries}
        cases = (*cases, *feedback_cases(feedback_store, known=known))
    index = FaqIndex(eval_set.faq.entries, method=method)
    default_threshold, default_clarify = METHOD_THRESHOLDS[method]
    answer_at = default_threshold if threshold is None else threshold
    clarify_at = default_clarify if clarify_threshold is None else clarify_threshold

    def ask(question: str) -> Any:
        return decide(
            index.search(question),
            threshold=answer_at,
            clarify_threshold=clarify_at if clarify else None,
        )

    report = evaluate(cases, ask)
    lines = [
        f"{path}: {len(eval_set.faq.entries)} entries, {len(cases)} questions"
        + (f" ({split} split)" if split else "")
        + f"; method {method}, threshold {answer_at:.2f}, clarify {clarify_at:.2f}"
        + ("" if clarify else " (off)"),
        "",
        *report.summary_lines(),
    ]
    kinds = evaluate_by_kind(cases, ask)
    if len(kinds) > 1:
        lines += ["", "by kind (right / wrong / clarify / silent; quiet for must-not-answer):"]
        for kind, part in sorted(kinds.items()):
            if part.answerable:
                lines.append(
                    f"  {kind:12} {part.answered_right:3} / {part.answered_wrong:3} / "
                    f"{part.clarified:3} / {part.silent:3} of {part.answerable}"
                )
            else:
                quiet = part.must_not_answer - part.mna_answered
                lines.append(f"  {kind:12} quiet {quiet} of {part.must_not_answer}")
    if report.failures:
        lines += ["", "wrong answers:"]
        for case, what, _decision in report.failures:
            expected = case.expected or "(must not answer)"
            lines.append(f"  {case.question!r}: expected {expected}, {what}")
    return report, lines
