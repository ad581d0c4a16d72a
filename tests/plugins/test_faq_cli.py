"""`agentbot faq test` and `agentbot faq eval`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from agentbot.cli import main

EVAL = Path(__file__).resolve().parent.parent / "data" / "faq_eval"


def write_bot_toml(tmp_path: Path, faq_file: str) -> Path:
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[smartsupp]\nagent_id = "a"\nkey = "k"\n\n[plugins.faq]\nfile = "{faq_file}"\n',
        encoding="utf-8",
    )
    return config


def test_faq_test_prints_matches_with_scores_and_the_decision(tmp_path: Path) -> None:
    (tmp_path / "faq.toml").write_bytes((EVAL / "faq.toml").read_bytes())
    config = write_bot_toml(tmp_path, "faq.toml")  # relative to bot.toml
    result = CliRunner().invoke(main, ["faq", "test", "-c", str(config), "opening hours pls"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(
        "57 entries; method hybrid, threshold 0.90, clarify 0.44, lead 0.44 by 0.04"
    )
    assert lines[2].startswith("1. 0.")
    assert "opening-hours [en]: What are your opening hours?" in lines[2]
    assert "decision: answer" in lines
    assert lines[-1].startswith("answer: Our support team is here")


def test_faq_test_names_the_line_of_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "faq.toml").write_text("[[entry]]\nquestion = 'q'\n", encoding="utf-8")
    config = write_bot_toml(tmp_path, "faq.toml")
    result = CliRunner().invoke(main, ["faq", "test", "-c", str(config), "q"])
    assert result.exit_code == 1
    assert "faq.toml:1: entry 1 ('q'): needs a non-empty 'answer'" in result.output


def test_faq_test_without_a_faq_section(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[smartsupp]\nagent_id = "a"\nkey = "k"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["faq", "test", "-c", str(config), "q"])
    assert result.exit_code == 1
    assert "no [plugins.faq] section" in result.output


def test_faq_eval_prints_the_figures() -> None:
    result = CliRunner().invoke(main, ["faq", "eval", str(EVAL / "questions.toml")])
    assert result.exit_code == 0, result.output
    figures = dict(
        (key.strip(), value.split()[0])
        for key, _, value in (line.partition(":") for line in result.output.splitlines())
        if value.strip()
    )
    assert float(figures["precision@1"]) >= 0.9
    assert float(figures["wrong-answer rate"]) <= 0.05
    assert float(figures["left silent or clarified"]) >= 0.9
    assert "silence rate" in figures


def test_faq_eval_with_another_method_and_no_clarifying() -> None:
    args = ["faq", "eval", str(EVAL / "questions.toml"), "--method", "bm25", "--no-clarify"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "method bm25, threshold 0.53, clarify 0.41 (off)" in result.output
    assert "clarify rate:             0.000 (0)" in result.output


def test_faq_eval_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["faq", "eval", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert "no such file" in result.output
