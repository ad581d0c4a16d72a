"""Reconnect delays: capped exponential backoff with full jitter, reset after a stable link.

Full jitter (a uniform draw between 0 and the capped exponential step) keeps a fleet of bots
that lost the same server from reconnecting in lockstep; see the AWS architecture blog's
"Exponential Backoff And Jitter". Pure: the random source and the clock are passed in.
"""

from __future__ import annotations

import random

import attrs

__all__ = ["Backoff", "ReconnectPolicy"]


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class ReconnectPolicy:
    """How the client waits between reconnect attempts.

    Attempt ``n`` (1-based) waits ``uniform(0, min(max_delay, initial_delay * multiplier**(n-1)))``
    seconds. A link that stayed up for ``stable_after_seconds`` resets the count. With
    ``max_attempts`` set, the client gives up after that many failed attempts in a row.
    ``enabled=False`` turns reconnecting off: the first lost link ends the client.
    """

    enabled: bool = True
    initial_delay_seconds: float = attrs.field(default=0.5, validator=_positive)
    max_delay_seconds: float = attrs.field(default=30.0, validator=_positive)
    multiplier: float = attrs.field(default=2.0, validator=_positive)
    stable_after_seconds: float = attrs.field(default=60.0, validator=_positive)
    max_attempts: int | None = None


class Backoff:
    """The mutable attempt counter that goes with a :class:`ReconnectPolicy`."""

    def __init__(self, policy: ReconnectPolicy, *, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Count one more failed attempt and return how long to wait before the next one."""
        self.attempt += 1
        p = self.policy
        step = p.initial_delay_seconds * p.multiplier ** min(self.attempt - 1, 64)
        return self._rng.uniform(0.0, min(p.max_delay_seconds, step))

    def exhausted(self) -> bool:
        """Whether ``max_attempts`` failed attempts in a row have been made."""
        limit = self.policy.max_attempts
        return limit is not None and self.attempt >= limit

    def link_lasted(self, seconds: float) -> None:
        """Reset the count when a link stayed up long enough to count as healthy."""
        if seconds >= self.policy.stable_after_seconds:
            self.attempt = 0
