"""Reconnect backoff: capped exponential steps, full jitter, reset after a stable link."""

from __future__ import annotations

import random

import pytest

from agentbot.client import Backoff, ReconnectPolicy


class MaxRandom(random.Random):
    """Always draws the top of the range, exposing the cap of each step."""

    def uniform(self, a: float, b: float) -> float:
        return b


class MinRandom(random.Random):
    """Always draws the bottom of the range."""

    def uniform(self, a: float, b: float) -> float:
        return a


def test_first_retry_is_quick_then_steps_double_up_to_the_cap() -> None:
    backoff = Backoff(
        ReconnectPolicy(initial_delay_seconds=0.5, max_delay_seconds=4), rng=MaxRandom()
    )
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 0.5, 1, 2, 4, 4, 4]


def test_default_delays_as_documented() -> None:
    backoff = Backoff(ReconnectPolicy(), rng=MaxRandom())
    assert [backoff.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    low = Backoff(ReconnectPolicy(), rng=MinRandom())
    assert [low.next_delay() for _ in range(3)] == [0.1, 0, 0]


def test_a_link_up_for_a_while_that_drops_once_is_back_within_two_seconds() -> None:
    # Issue 16, defect 5: drops every 20-40 s gave reconnect p99 28 s; only a link up for
    # 60 s reset the count, so each of those drops waited longer than the one before.
    backoff = Backoff(ReconnectPolicy(), rng=random.Random(3))
    delays = []
    for _ in range(50):
        backoff.link_lasted(20.0)
        delays.append(backoff.next_delay())
    assert all(0.1 <= d <= 0.5 for d in delays)


def test_first_retry_never_exceeds_the_cap() -> None:
    backoff = Backoff(ReconnectPolicy(max_delay_seconds=0.05), rng=MaxRandom())
    assert backoff.next_delay() == 0.05


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
    assert backoff.next_delay() == 0.5  # the quick first retry again


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


def test_first_retry_window_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="first_retry_min_seconds"):
        ReconnectPolicy(first_retry_min_seconds=1, first_retry_max_seconds=0.5)


def test_a_flapping_link_that_keeps_logging_in_waits_at_most_one_second() -> None:
    # Issue 16, defect 5 (flapping every 0.5-1.5 s): each link logs in, then dies young. The
    # server is up; growing to the 30 s cap kept the bot offline (soak: p50 14 s).
    backoff = Backoff(ReconnectPolicy(), rng=MaxRandom())
    delays = []
    for _ in range(10):
        backoff.link_lasted(1.0)
        delays.append(backoff.next_delay())
    assert delays[0] == 0.5
    assert max(delays) == 1.0


def test_after_a_flapping_link_an_attempt_that_never_logs_in_grows_again() -> None:
    backoff = Backoff(ReconnectPolicy(), rng=MaxRandom())
    for _ in range(5):
        backoff.link_lasted(1.0)
        backoff.next_delay()
    # The server stops taking logins (an outage): no link_lasted, so the cap lifts.
    assert [backoff.next_delay() for _ in range(2)] == [16, 30]
