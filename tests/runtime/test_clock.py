"""The virtual clock: time moves only when told, sleeps are recorded, cancellation is clean."""

from __future__ import annotations

import anyio
import pytest

from agentbot.runtime.clock import Clock, RealClock, VirtualClock


async def test_real_clock_follows_the_event_loop() -> None:
    clock = RealClock()
    assert isinstance(clock, Clock)
    before = clock.now()
    await clock.sleep_until(before)  # a deadline in the past returns at once
    assert clock.now() >= before


async def test_manual_virtual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, deadline: float) -> None:
        await clock.sleep_until(deadline)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "late", 5.0)
        tg.start_soon(sleeper, "early", 2.0)
        await clock.wait_sleepers(2)
        assert clock.next_deadline() == 2.0
        await clock.advance(1.0)
        assert woke == []
        await clock.advance(10.0)
    assert woke == [("early", 2.0), ("late", 5.0)]
    assert clock.now() == 11.0
    assert sorted(clock.sleeps) == [2.0, 5.0]


async def test_autojump_clock_records_durations_without_waiting() -> None:
    clock = VirtualClock(autojump=True, start=100.0)
    await clock.sleep(1.5)
    await clock.sleep_until(100.0)  # in the past: recorded as 0
    await clock.sleep(2.5)
    assert clock.sleeps == [1.5, 0.0, 2.5]
    assert clock.now() == 104.0


async def test_cancelled_sleeper_is_forgotten() -> None:
    clock = VirtualClock()
    async with anyio.create_task_group() as tg:
        tg.start_soon(clock.sleep_until, 3.0)
        await clock.wait_sleepers(1)
        tg.cancel_scope.cancel()
    assert clock.sleeper_count == 0
    assert clock.next_deadline() is None


async def test_time_never_goes_backwards() -> None:
    clock = VirtualClock(start=5.0)
    await clock.advance_to(1.0)
    assert clock.now() == 5.0
    with pytest.raises(ValueError, match="backwards"):
        await clock.advance(-1)
