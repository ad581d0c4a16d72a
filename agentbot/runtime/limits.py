"""The bot's brakes: a global outgoing rate limit and a per-chat loop guard.

Both run on the runtime's :class:`~agentbot.runtime.clock.Clock`, so tests drive them with
virtual time.

* :class:`TokenBucket` caps outgoing chat messages across all chats (``[runtime]
  max_messages_per_second``, burst ``message_burst``): a plugin bug or a crowd of visitors
  can never make the bot flood the account. Waiters reserve a token up front (the balance may
  go negative) and sleep until it is theirs, so they leave in arrival order without a
  thundering herd; a waiter cancelled before its turn gives its token back.
* :class:`LoopGuard` caps messages per chat per minute (``max_replies_per_chat_per_minute``):
  two bots, or a bot and an auto-responder, answering each other forever is the classic
  failure of chat automation, and a careful human never sends 20 messages a minute.
"""

from __future__ import annotations

import collections

import anyio

from agentbot.runtime.clock import Clock

__all__ = ["LoopGuard", "TokenBucket"]


class TokenBucket:
    """Allow ``rate`` events per second on average, up to ``burst`` back to back."""

    def __init__(self, *, rate: float, burst: int, clock: Clock) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated: float | None = None  # read the clock on first use: it may need a loop

    def _refill(self) -> None:
        now = self._clock.now()
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> float:
        """Take a token, waiting (on the clock) until one is due; return the seconds waited."""
        self._refill()
        self._tokens -= 1
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.rate
        started = self._clock.now()
        try:
            await self._clock.sleep_until(started + wait)
        except anyio.get_cancelled_exc_class():
            self._tokens += 1  # give the reservation back
            raise
        return self._clock.now() - started


class LoopGuard:
    """Count messages per chat in a sliding window; refuse past ``limit`` per ``window``."""

    def __init__(self, *, limit: int, clock: Clock, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()

    def allow(self) -> bool:
        """Return whether one more message fits in the window (does not record it)."""
        cutoff = self._clock.now() - self.window_seconds
        while self._sent and self._sent[0] <= cutoff:
            self._sent.popleft()
        return len(self._sent) < self.limit

    def record(self) -> None:
        """Count one message sent now."""
        self._sent.append(self._clock.now())
