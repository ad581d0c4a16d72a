"""Reconnect backoff: capped exponential steps, full jitter, reset after a stable link."""

from __future__ import annotations

import random

import pytest

from agentbot.client import Backoff, ReconnectPolicy


class MaxRandom(random.Random):
    """Always draws the top of the range, exposing the cap of each step."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_steps_double_up_to_the_cap() -> None:
    backoff = Backoff(
        ReconnectPolicy(initial_delay_seconds=0.5, max_delay_seconds=4), rng=MaxRandom()
    )
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]


def test_full_jitter_draws_between_zero_and_the_step() -> None:
    backoff = Backoff(
        ReconnectPolicy(initial_delay_seconds=1, max_delay_seconds=8), rng=random.Random(7)
    )
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0 <= d <= 8 for d in delays)
    assert len(set(delays)) > 150  # jittered, not lockstep


def test_a_stable_link_resets_the_count_and_a_short_one_does_not() -> None:
    backoff = Backoff(ReconnectPolicy(stable_after_seconds=60), rng=MaxRandom())
    for _ in range(3):
        backoff.next_delay()
    backoff.link_lasted(5)
    assert backoff.attempt == 3
    backoff.link_lasted(60)
    assert backoff.attempt == 0
    assert backoff.next_delay() == 0.5


def test_max_attempts_exhausts() -> None:
    backoff = Backoff(ReconnectPolicy(max_attempts=2))
    assert not backoff.exhausted()
    backoff.next_delay()
    backoff.next_delay()
    assert backoff.exhausted()


@pytest.mark.parametrize("field", ["initial_delay_seconds", "max_delay_seconds", "multiplier"])
def test_non_positive_settings_are_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ReconnectPolicy(**{field: 0})
