"""What ``agentbot faq test`` and ``agentbot faq eval`` print (the CLI glue is in cli.py)."""

from __future__ import annotations

from pathlib import Path

from .decision import decide
from .evaluate import EvalReport, evaluate, load_eval_set
from .matcher import METHOD_THRESHOLDS, FaqIndex, Method
from .plugin import Faq

__all__ = ["eval_report", "match_lines"]


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
) -> tuple[EvalReport, list[str]]:
    """Run a labelled file; return the report and its lines (failures listed last)."""
    eval_set = load_eval_set(path)
    index = FaqIndex(eval_set.faq.entries, method=method)
    default_threshold, default_clarify = METHOD_THRESHOLDS[method]
    answer_at = default_threshold if threshold is None else threshold
    clarify_at = default_clarify if clarify_threshold is None else clarify_threshold
    report = evaluate(
        eval_set.cases,
        lambda question: decide(
            index.search(question),
            threshold=answer_at,
            clarify_threshold=clarify_at if clarify else None,
        ),
    )
    lines = [
        f"{path}: {len(eval_set.faq.entries)} entries, {len(eval_set.cases)} questions; "
        f"method {method}, threshold {answer_at:.2f}, clarify {clarify_at:.2f}"
        + ("" if clarify else " (off)"),
        "",
        *report.summary_lines(),
    ]
    if report.failures:
        lines += ["", "wrong answers:"]
        for case, what, _decision in report.failures:
            expected = case.expected or "(must not answer)"
            lines.append(f"  {case.question!r}: expected {expected}, {what}")
    return report, lines
