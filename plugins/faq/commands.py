"""``agentbot faq test / eval / gaps``: the faq plugin's own commands (``register_commands``).

The built-in plugin adds them exactly as a third-party plugin would; what each prints is
built by the ``*_lines`` / ``*_report`` functions so tests can read it without a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from agentbot import AgentbotError, CommandTools

from .decision import decide
from .evaluate import EvalReport, Split, evaluate, evaluate_by_kind, load_eval_set
from .feedback import feedback_cases, feedback_lines
from .gaps import gap_lines, load_gaps
from .glossary import glossary_for
from .matcher import METHOD_LEADS, METHOD_THRESHOLDS, FaqIndex, Method
from .plugin import Faq, FaqConfig

__all__ = ["add_commands", "eval_report", "gaps_report", "match_lines"]


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
        + ("" if faq.config.clarify else " (off)")
        + (
            ""
            if faq.lead_threshold is None
            else f", lead {faq.lead_threshold:.2f} by {faq.lead_margin:.2f}"
        ),
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
    index = FaqIndex(
        eval_set.faq.entries, method=method, glossary=glossary_for(eval_set.faq.glossary)
    )
    default_threshold, default_clarify = METHOD_THRESHOLDS[method]
    lead_threshold, lead_margin = METHOD_LEADS[method]
    answer_at = default_threshold if threshold is None else threshold
    clarify_at = default_clarify if clarify_threshold is None else clarify_threshold

    def ask(question: str) -> Any:
        return decide(
            index.search(question),
            threshold=answer_at,
            clarify_threshold=clarify_at if clarify else None,
            lead_threshold=lead_threshold,
            lead_margin=lead_margin,
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


def _echo_or_fail(make_lines: Any) -> None:
    """Print the lines ``make_lines()`` returns; an agentbot error is one line and exit 1."""
    try:
        lines = make_lines()
    except AgentbotError as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


def add_commands(cli: click.Group, tools: CommandTools) -> None:
    """Add the ``agentbot faq`` group to ``cli``."""

    @cli.group()
    def faq() -> None:
        """Try the built-in faq plugin's matching: one question, or a labelled file."""

    @faq.command("test")
    @tools.config_option()
    @click.option(
        "--lang", default=None, help="The visitor's language, e.g. cs (default: unknown)."
    )
    @click.option("-n", "--limit", default=5, show_default=True, type=click.IntRange(1, 50))
    @click.argument("question")
    def faq_test(config_path: str | None, lang: str | None, limit: int, question: str) -> None:
        """Show the FAQ entries that best match QUESTION, with scores, and what the bot would do.

        The FAQ file, method and thresholds come from bot.toml's [plugins.faq]; no Smartsupp
        credentials are needed.
        """

        def lines() -> list[str]:
            options = tools.plugin_config(config_path, "faq", FaqConfig)
            faq = Faq(options, base_dir=tools.config_dir(config_path))
            return match_lines(faq, question, lang=lang, limit=limit)

        _echo_or_fail(lines)

    @faq.command("eval")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option(
        "--method",
        type=click.Choice(["blend", "bm25", "fuzzy", "semantic", "hybrid"]),
        default="hybrid",
        show_default=True,
        help="Matching method.",
    )
    @click.option(
        "--split", type=click.Choice(["tune", "test"]), default=None, help="Only one split."
    )
    @click.option(
        "--feedback",
        "feedback_config",
        default=None,
        help="Also the questions visitors confirmed, from this bot.toml's storage.",
    )
    @click.option(
        "--threshold", type=click.FloatRange(0, 1), default=None, help="Answer at or above."
    )
    @click.option(
        "--clarify-threshold", type=click.FloatRange(0, 1), default=None, help="Ask at or above."
    )
    @click.option("--no-clarify", is_flag=True, help="Never ask 'did you mean…?'.")
    def faq_eval(
        file: str,
        method: str,
        threshold: float | None,
        clarify_threshold: float | None,
        no_clarify: bool,
        split: str | None,
        feedback_config: str | None,
    ) -> None:
        """Measure matching on FILE, a labelled question file: precision@1, wrong answers, silence.

        FILE names its FAQ (faq = "...") and lists, per entry id, questions that entry must
        answer, plus questions no entry may answer (see docs/plugins.md, "faq").
        """

        def lines() -> list[str]:
            store = tools.plugin_store(feedback_config, "faq") if feedback_config else None
            _report, report_lines = eval_report(
                file,
                method=cast(Method, method),
                threshold=threshold,
                clarify_threshold=clarify_threshold,
                clarify=not no_clarify,
                split=cast("Split | None", split),
                feedback_store=store,
            )
            return report_lines

        _echo_or_fail(lines)

    @faq.command("gaps")
    @tools.config_option()
    @click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100))
    def faq_gaps(config_path: str | None, top: int) -> None:
        """Group the questions the FAQ could not answer; print the largest groups with examples."""
        _echo_or_fail(lambda: gaps_report(tools.plugin_store(config_path, "faq"), top=top))
