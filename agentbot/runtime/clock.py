"""The runtime's clock: every sleep in agentbot/runtime goes through one of these.

Why a clock object instead of ``anyio.sleep``: pacing makes the bot wait seconds before it
answers, and tests must check those waits without spending them (STYLE.md §7, §10). The
runtime therefore never sleeps on its own; it asks its :class:`Clock`. In production that is
:class:`RealClock` (anyio's monotonic event-loop clock); in tests it is :class:`VirtualClock`,
whose time only moves when the test says so (or instantly, with ``autojump=True``) and which
records every sleep it was asked for.

Timeouts that guard against hangs (a plugin's time budget, the shielded ``typing false`` on
cleanup) are cancel scopes on the event loop's real clock, not sleeps: they protect the
process, so they must not stop when a test freezes virtual time.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Protocol, runtime_checkable

import anyio
import anyio.lowlevel

__all__ = ["Clock", "RealClock", "VirtualClock", "wait_for"]


@runtime_checkable
class Clock(Protocol):
    """What the runtime needs from time: read it, and wait until a moment."""

    def now(self) -> float:
        """Return the current time in seconds (monotonic; the origin is arbitrary)."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline``; cancellable like any anyio sleep."""
        ...


class RealClock:
    """The event loop's monotonic clock (``anyio.current_time`` / ``anyio.sleep_until``)."""

    def now(self) -> float:
        """Return the event loop's current time."""
        return anyio.current_time()

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` on the event loop's clock."""
        await anyio.sleep_until(deadline)

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock:
    """A clock for tests: time moves only when told to, and every sleep is recorded.

    ``sleeps`` holds the duration of each ``sleep_until`` call (deadline minus the time of the
    call), in call order, so a test can assert on the pacing model's output without sleeping.

    Manual mode (the default): sleepers block until the test calls :meth:`advance` or
    :meth:`advance_to`; :meth:`wait_sleepers` lets a test wait (on an event, not on real
    time) until the code under test is parked in a sleep — e.g. "the bot is now typing".

    ``autojump=True``: a sleep moves the clock to its deadline at once (after one checkpoint),
    which suits tests that only care about the recorded durations.
    """

    def __init__(self, *, start: float = 0.0, autojump: bool = False) -> None:
        self._now = float(start)
        self.autojump = autojump
        self.sleeps: list[float] = []
        self._heap: list[tuple[float, int, anyio.Event]] = []
        self._counter = itertools.count()
        self._changed: anyio.Event | None = None  # created in the event loop, on first use

    def now(self) -> float:
        """Return the virtual time."""
        return self._now

    @property
    def sleeper_count(self) -> int:
        """Return how many tasks are parked in :meth:`sleep_until` right now."""
        return sum(1 for _deadline, _seq, event in self._heap if not event.is_set())

    def next_deadline(self) -> float | None:
        """Return the earliest deadline a task is sleeping until, or ``None``."""
        live = [deadline for deadline, _seq, event in self._heap if not event.is_set()]
        return min(live) if live else None

    async def sleep_until(self, deadline: float) -> None:
        """Record the sleep, then wait for the virtual clock to reach ``deadline``."""
        if math.isnan(deadline):
            raise ValueError("cannot sleep until NaN")
        self.sleeps.append(max(0.0, deadline - self._now))
        if deadline <= self._now:
            await anyio.lowlevel.checkpoint()
            return
        if self.autojump:
            self._now = deadline
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._heap, (deadline, next(self._counter), event))
        self._notify()
        try:
            await event.wait()
        finally:
            if not event.is_set():
                # Cancelled while sleeping: drop the entry so counts stay right.
                event.set()
                self._discard_fired()
                self._notify()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time."""
        await self.sleep_until(self._now + seconds)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper whose deadline passed."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        await self.advance_to(self._now + seconds)

    async def advance_to(self, moment: float) -> None:
        """Move time to ``moment`` (never backwards), waking sleepers in deadline order.

        Sleepers are woken one deadline at a time, with the clock set to that deadline, and
        the woken tasks get to run before later ones are woken; so a task that sleeps again
        after waking sees consistent time.
        """
        while self._heap and self._heap[0][0] <= moment:
            deadline, _seq, event = heapq.heappop(self._heap)
            if event.is_set():
                continue
            self._now = max(self._now, deadline)
            event.set()
            self._notify()
            # Let the woken task (and what it triggers) run before the next deadline.
            for _ in range(10):
                await anyio.lowlevel.checkpoint()
        self._now = max(self._now, moment)

    async def wait_sleepers(self, count: int = 1) -> None:
        """Wait (without moving time) until at least ``count`` tasks are sleeping."""
        while self.sleeper_count < count:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def _discard_fired(self) -> None:
        self._heap = [entry for entry in self._heap if not entry[2].is_set()]
        heapq.heapify(self._heap)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r}, sleepers={self.sleeper_count})"


async def wait_for(clock: Clock, event: anyio.Event, *, deadline: float | None = None) -> bool:
    """Wait until ``event`` is set or ``clock`` reaches ``deadline`` (None: never); True if set.

    Why through the clock even without a deadline: the wait is a sleep on ``clock`` (until
    ``math.inf``), so a :class:`VirtualClock` counts the task among its sleepers and a test
    harness sees it as idle; a bare ``event.wait()`` would look busy for ever.
    """
    if deadline is not None and math.isnan(deadline):
        raise ValueError("cannot wait until NaN")
    if event.is_set():
        await anyio.lowlevel.checkpoint()
        return True
    woken = False
    async with anyio.create_task_group() as tg:

        async def alarm() -> None:
            await clock.sleep_until(math.inf if deadline is None else deadline)
            tg.cancel_scope.cancel()

        async def wake() -> None:
            nonlocal woken
            await event.wait()
            woken = True
            tg.cancel_scope.cancel()

        tg.start_soon(alarm)
        tg.start_soon(wake)
    return woken
