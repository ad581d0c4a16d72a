"""The pacing model, checked by formula: no sleeping, no clock."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbot.runtime.pacing import (
    PacingSettings,
    PlannedMessage,
    message_delay,
    plan_reply,
    reading_delay,
    split_reply,
)

NO_JITTER = PacingSettings(jitter=0.0)


def test_delay_is_reading_plus_thinking_plus_typing() -> None:
    settings = PacingSettings(
        jitter=0.0,
        reading_chars_per_second=10.0,
        thinking_seconds=0.5,
        typing_chars_per_second=20.0,
        min_seconds=0.0,
        max_seconds=100.0,
    )
    delay = message_delay("x" * 30, "y" * 40, settings, random.Random(1))
    assert delay == pytest.approx(3.0 + 0.5 + 2.0)


def test_follow_up_part_has_no_reading_time_and_a_short_pause() -> None:
    settings = PacingSettings(
        jitter=0.0,
        typing_chars_per_second=20.0,
        min_seconds=0.0,
        pause_between_messages_seconds=0.4,
    )
    delay = message_delay("x" * 300, "y" * 40, settings, random.Random(1), follow_up=True)
    assert delay == pytest.approx(0.4 + 2.0)


def test_delay_is_clamped_to_min_and_max() -> None:
    settings = PacingSettings(jitter=0.0, min_seconds=1.5, max_seconds=4.0)
    assert message_delay("", "ok", settings, random.Random(0)) == pytest.approx(1.5)
    assert message_delay("", "z" * 10_000, settings, random.Random(0)) == pytest.approx(4.0)


def test_time_scale_is_a_speed_factor_applied_after_clamping() -> None:
    normal = PacingSettings(jitter=0.0)
    fast = PacingSettings(jitter=0.0, time_scale=0.1)
    off = PacingSettings(time_scale=0.0)
    base = message_delay("hello", "Hi there!", normal, random.Random(0))
    assert message_delay("hello", "Hi there!", fast, random.Random(0)) == pytest.approx(base / 10)
    assert message_delay("hello", "Hi there!", off, random.Random(0)) == 0.0


def test_jitter_stays_within_its_band_and_is_seeded() -> None:
    settings = PacingSettings(jitter=0.2, min_seconds=0.0, max_seconds=1000.0)
    exact = message_delay(
        "q" * 60, "a" * 90, PacingSettings(jitter=0.0, min_seconds=0.0), random.Random(0)
    )
    delays = {
        message_delay("q" * 60, "a" * 90, settings, random.Random(seed)) for seed in range(200)
    }
    assert len(delays) > 100  # really jittered
    assert min(delays) >= exact * 0.8 - 1e-9
    assert max(delays) <= exact * 1.2 + 1e-9
    again = message_delay("q" * 60, "a" * 90, settings, random.Random(7))
    assert again == message_delay("q" * 60, "a" * 90, settings, random.Random(7))


def test_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    settings = PacingSettings()
    first = plan_reply("Where is my order?", "It ships tomorrow.", settings, seed="msg-1")
    assert first == plan_reply("Where is my order?", "It ships tomorrow.", settings, seed="msg-1")
    assert first != plan_reply("Where is my order?", "It ships tomorrow.", settings, seed="msg-2")


@pytest.mark.parametrize(
    ("incoming", "reply"),
    [
        ("hi", "Hello! How can I help?"),
        ("Do you ship to Germany?", "Yes, we ship to all EU countries within 3 days."),
        (
            "What are your opening hours on weekends?",
            "We are open 9-17 on Saturdays and closed on Sundays, but the chat runs.",
        ),
    ],
)
def test_default_pacing_of_typical_replies_is_between_one_and_six_seconds(
    incoming: str, reply: str
) -> None:
    for seed in range(50):
        (planned,) = plan_reply(incoming, reply, PacingSettings(), seed=seed)
        assert 1.0 <= planned.delay_seconds <= 6.0


def test_default_plan_of_a_short_greeting_matches_the_documented_figure() -> None:
    (planned,) = plan_reply("hi", "Hello! How can I help?", NO_JITTER, seed=0)
    assert planned == PlannedMessage("Hello! How can I help?", pytest.approx(1.3, abs=0.01))


def test_long_reply_is_planned_as_several_messages_each_with_a_delay() -> None:
    settings = PacingSettings(max_message_chars=40, jitter=0.0, min_seconds=0.0)
    reply = "First paragraph is here.\n\nSecond paragraph follows. It has two sentences."
    plan = plan_reply("question?", reply, settings, seed=1)
    assert [p.text for p in plan] == [
        "First paragraph is here.",
        "Second paragraph follows.",
        "It has two sentences.",
    ]
    assert all(p.delay_seconds > 0 for p in plan)
    # Only the first part pays reading and thinking time.
    assert plan[0].delay_seconds > plan[2].delay_seconds


def test_blank_reply_plans_nothing() -> None:
    assert plan_reply("hi", "   \n ", PacingSettings(), seed=0) == ()


def test_reading_delay_scales_with_text_and_speed_factor() -> None:
    settings = PacingSettings(jitter=0.0, reading_chars_per_second=10.0, time_scale=0.5)
    assert reading_delay("x" * 20, settings, seed=0) == pytest.approx(1.0)


def test_split_keeps_short_text_whole() -> None:
    assert split_reply("  Hello there.\n\nBye.  ", 400) == ["Hello there.\n\nBye."]


def test_split_cuts_at_paragraphs_then_sentences_then_spaces() -> None:
    text = "Aaaa aaaa.\n\nBbbb bbbb. Cccc cccc cccc cccc cccc cccc."
    assert split_reply(text, 24) == [
        "Aaaa aaaa.",
        "Bbbb bbbb.",
        "Cccc cccc cccc cccc cccc",
        "cccc.",
    ]


def test_split_cuts_a_word_longer_than_the_limit() -> None:
    assert split_reply("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]


@given(
    text=st.text(alphabet=st.sampled_from("ab .!?\n"), max_size=400),
    max_chars=st.integers(min_value=1, max_value=80),
)
def test_split_parts_fit_and_keep_every_word_in_order(text: str, max_chars: int) -> None:
    """Any text: every part fits, none is blank, and no character but whitespace is lost."""
    parts = split_reply(text, max_chars)
    assert all(0 < len(part) <= max_chars for part in parts)
    assert all(part == part.strip() for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_scale": -1.0},
        {"jitter": 1.0},
        {"typing_chars_per_second": 0.0},
        {"min_seconds": 5.0, "max_seconds": 1.0},
        {"max_message_chars": 5},
        {"thinking_seconds": float("nan")},
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        PacingSettings(**kwargs)  # type: ignore[arg-type]


def test_seeded_draws_are_uniform_reproducible_and_seed_dependent() -> None:
    from agentbot.runtime.pacing import SeededDraws

    draws = SeededDraws("msg-1")
    values = [draws.random() for _ in range(2000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert 0.45 < sum(values) / len(values) < 0.55
    again = SeededDraws("msg-1")
    assert [again.random() for _ in range(5)] == values[:5]
    assert SeededDraws("msg-2").random() != values[0]
    assert 3.0 <= SeededDraws(7).uniform(3.0, 4.0) < 4.0
