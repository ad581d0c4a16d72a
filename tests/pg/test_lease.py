"""The lease against a real server: one holder at a time, takeover within ttl + one try.

Expiry is driven by a virtual wall clock shared by the replicas (the runtime's VirtualClock
plus an epoch), so takeover times are checked without waiting for them.
"""

from __future__ import annotations

import anyio
import anyio.abc
import psycopg

from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.lease import DEFAULT_LEASE_TTL_SECONDS, Lease, LeaseLost

EPOCH = 1_800_000_000.0


def replica(dsn: str, clock: VirtualClock, name: str, **options: object) -> Lease:
    return Lease(
        dsn,
        namespace="sandbox/bot-1",
        holder=name,
        clock=clock,
        wall_clock=lambda: EPOCH + clock.now(),
        **options,  # type: ignore[arg-type]
    )


def test_the_default_takeover_time_is_within_fifteen_seconds() -> None:
    lease = Lease("postgresql://unused", namespace="n")
    assert lease.ttl_seconds == DEFAULT_LEASE_TTL_SECONDS
    assert lease.max_takeover_seconds <= 15


async def test_only_one_replica_holds_the_lease_until_it_releases(pg_dsn: str) -> None:
    clock = VirtualClock()
    a, b = replica(pg_dsn, clock, "a"), replica(pg_dsn, clock, "b")
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire()
        assert await a.try_acquire()  # re-acquiring one's own lease is a renewal
        assert a.generation == 1
        await a.release()
        assert not a.held
        assert await b.try_acquire()
        assert b.generation == 2  # a new holder: a new fencing token
        assert not await a.renew()
    finally:
        a.close()
        b.close()


async def test_a_standby_takes_over_within_ttl_after_the_holder_dies(pg_dsn: str) -> None:
    clock = VirtualClock()
    a = replica(pg_dsn, clock, "a", ttl_seconds=9.0)
    b = replica(pg_dsn, clock, "b", ttl_seconds=9.0)
    took_over_at: list[float] = []

    async def standby() -> None:
        await b.wait_acquired()
        took_over_at.append(clock.now())

    async def drive_time() -> None:
        while True:
            await clock.wait_sleepers()
            await clock.advance(b.interval_seconds)

    try:
        assert await a.try_acquire()
        died_at = clock.now()
        a.close()  # the holder dies: no release, no more renewals
        async with anyio.create_task_group() as tg:
            tg.start_soon(drive_time)
            await standby()
            tg.cancel_scope.cancel()
        assert b.held
        takeover = took_over_at[0] - died_at
        assert 9.0 <= takeover <= b.max_takeover_seconds
    finally:
        a.close()
        b.close()


async def test_the_holder_renews_and_keeps_the_lease_past_its_ttl(pg_dsn: str) -> None:
    clock = VirtualClock()
    a = replica(pg_dsn, clock, "a", ttl_seconds=6.0)
    b = replica(pg_dsn, clock, "b", ttl_seconds=6.0)
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(a.hold)
            for _ in range(10):  # 20 virtual seconds, far past one ttl
                await clock.wait_sleepers()
                await clock.advance(a.interval_seconds)
                assert not await b.try_acquire()
            tg.cancel_scope.cancel()
        assert await b.try_acquire()  # cancelling hold() released it
    finally:
        a.close()
        b.close()


async def test_a_holder_whose_lease_was_taken_is_told_it_lost_it(pg_dsn: str) -> None:
    clock = VirtualClock()
    a = replica(pg_dsn, clock, "a", ttl_seconds=3.0)
    b = replica(pg_dsn, clock, "b", ttl_seconds=3.0)
    lost: list[LeaseLost] = []

    async def holder(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        try:
            await a.hold(task_status=task_status)
        except LeaseLost as exc:
            lost.append(exc)

    try:
        async with anyio.create_task_group() as tg:
            await tg.start(holder)
            # Steal it as if a's renewals had stalled past the expiry.
            with psycopg.connect(pg_dsn, autocommit=True) as db:
                db.execute("UPDATE agentbot_lease SET expires_at = 0")
            assert await b.try_acquire()
            await clock.wait_sleepers()
            await clock.advance(a.interval_seconds)
        assert len(lost) == 1
        assert "taken by another replica" in str(lost[0])
        assert not a.held
        assert b.held
    finally:
        a.close()
        b.close()
