"""Message understanding, identifiers, the eval set's split, gaps and feedback (faq plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentbot import extract_identifiers, mask_identifiers
from agentbot_plugins.faq.evaluate import load_eval_set, split_of
from agentbot_plugins.faq.feedback import feedback_cases, record_feedback
from agentbot_plugins.faq.gaps import gap_lines, group_gaps, load_gaps, record_gap
from agentbot_plugins.faq.understanding import message_parts

BIKES = Path(__file__).resolve().parent.parent / "data" / "faq_eval_bikes"


class DictStore:
    """A plugin store held in a dict (the real one is SQLite; same four methods)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def keys(self, prefix: str = "") -> list[str]:
        return [key for key in self.data if key.startswith(prefix)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order 2024118 has not arrived", [("order", "2024118")]),
        (
            "objednávka č. 4521, tel. +420 777 123 456",
            [("order", "4521"), ("phone", "+420 777 123 456")],
        ),
        ("write to jana.novakova@seznam.cz", [("email", "jana.novakova@seznam.cz")]),
        (
            "see https://pedalo.example/p/trail-29-m.",
            [("url", "https://pedalo.example/p/trail-29-m")],
        ),
        ("it was 1 500 Kč, or €60", [("amount", "1 500 Kč"), ("amount", "€60")]),
        ("I am 180 cm, shoe size 42, bought in 2024", []),
    ],
)
def test_identifiers_are_typed_and_plain_numbers_are_not(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(i.kind, i.text) for i in extract_identifiers(text)] == expected


def test_masking_replaces_each_identifier() -> None:
    text = "cancel PED-1234567 please, mail me at a@b.cz"
    assert (
        mask_identifiers(text, placeholder="<{kind}>")
        == "cancel <order> please, mail me at <email>"
    )


def test_greeting_story_and_signature_are_set_aside() -> None:
    parts = message_parts(
        "Hello, I hope you are well. My bike makes a noise. "
        "Could you tell me what time you open on Saturday? Thank you very much, Martin"
    )
    assert parts[0] == ("my bike makes a noise could you tell me what time you open on saturday")
    assert parts[1] == "could you tell me what time you open on saturday"  # questions first
    assert not any("martin" in part or "hello" in part for part in parts)


def test_a_short_question_is_not_taken_for_a_signature() -> None:
    assert message_parts("Slevový kód nefunguje") == ["slevovy kod nefunguje"]
    assert message_parts("hi") == ["hi"]  # courtesy alone still reaches the matcher


def test_split_is_fixed_and_identifier_variants_stay_together() -> None:
    eval_set = load_eval_set(BIKES / "questions.toml")
    assert len(eval_set.cases) >= 400
    tune, test = eval_set.select("tune"), eval_set.select("test")
    assert len(tune) + len(test) == len(eval_set.cases)
    assert 0.4 < len(test) / len(eval_set.cases) < 0.6
    assert split_of("where is my order") == split_of("where is my order")
    variants = [c for c in eval_set.cases if c.kind == "identifier"]
    by_entry_split = {(c.expected, c.split) for c in variants}
    assert len(by_entry_split) < len(variants)  # two variants of a template share a split
    assert not any("{" in c.question for c in eval_set.cases)


def test_gaps_are_masked_grouped_and_reported_largest_first() -> None:
    store = DictStore()
    questions = [
        "do you sell electric scooters",
        "do you sell e scooters?",
        "electric scooters for sale?",
        "what is the wifi password",
        "order 55512345 where is it, mail me at x@y.cz",
    ]
    for number, text in enumerate(questions):
        record_gap(
            store,
            text=text,
            chat_id=f"c{number}",
            time=1.7e9 + number,
            outcome="silence",
            message_id=f"m{number}",
        )
    gaps = load_gaps(store)
    assert "55512345" not in gaps[-1].text
    assert "<order>" in gaps[-1].text
    assert "x@y.cz" not in gaps[-1].text
    groups = group_gaps(gaps)
    assert groups[0].size == 3
    lines = gap_lines(gaps, top=2)
    assert lines[0].startswith("5 unanswered questions")
    assert lines[2].startswith("1. 3 questions in 3 chats (silence 3)")


def test_feedback_picks_and_yes_become_eval_cases_and_a_later_no_cancels() -> None:
    store = DictStore()
    record_feedback(
        store, question="u ship 2 vienna?", entry_id="shipping-countries", signal="choice", time=1.0
    )
    record_feedback(store, question="is it free", entry_id="shipping-cost", signal="yes", time=2.0)
    record_feedback(store, question="is it free", entry_id="shipping-cost", signal="no", time=3.0)
    cases = feedback_cases(store, known={"shipping-countries", "shipping-cost"})
    assert [(c.question, c.expected) for c in cases] == [("u ship 2 vienna?", "shipping-countries")]
