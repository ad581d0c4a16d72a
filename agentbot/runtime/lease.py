"""One active replica per bot: a lease row with an expiry in PostgreSQL, renewed while alive.

N replicas of the same bot file may run (for availability); exactly one may log in and
answer, or every visitor gets every reply N times. The replicas agree through a row of
``agentbot_lease`` per bot namespace: ``holder``, a ``generation`` that grows on every
change of holder (a fencing token), and ``expires_at``.

Why a lease row and not an advisory lock. An advisory lock is released when its session
ends — at once after a crash on the same host, but after a network partition only when the
server notices the dead TCP connection, which can take minutes to hours; meanwhile nobody
takes over. A row with an expiry bounds takeover by the configured time whatever failed,
and the holder knows the moment it must stop (its own deadline), without the server.

Timing (``ttl_seconds``, default 10 s): the holder renews every ``ttl/3``; a standby tries
every ``ttl/3``; so after the holder dies, another replica holds the lease within
``ttl + ttl/3`` (13.3 s by default, under the 15 s promised). A holder that could not renew
for ``ttl`` (server unreachable) gives up — :class:`LeaseLost` — before anyone else can have
taken over, because the expiry it wrote counts from a moment after its own clock started the
renewal. A clean stop marks the row expired, so a standby takes over at its next try.

Expiry is measured on the database server's clock (one clock for all replicas, no skew)
unless ``wall_clock`` is given (tests drive it with the virtual clock). Sleeps go through the
runtime :class:`~agentbot.runtime.clock.Clock`. Database calls run on a dedicated
connection in a worker thread, so this works on asyncio and trio.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import psycopg

from agentbot.errors import AgentbotError
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.pg_storage import apply_migrations, describe_url

__all__ = ["DEFAULT_LEASE_TTL_SECONDS", "Lease", "LeaseLost", "new_holder_id"]

logger = logging.getLogger(__name__)

DEFAULT_LEASE_TTL_SECONDS = 10.0


class LeaseLost(AgentbotError):
    """This replica no longer holds the bot's lease: it must stop answering now."""


def new_holder_id() -> str:
    """Return an id for this replica: host, process and a random part (restarts differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    """The lease of one bot ``namespace``, as seen by one replica (``holder``).

    Use :meth:`hold` as a task (``await task_group.start(lease.hold)``: it returns once
    held, then renews until cancelled, releasing on the way out, and raises
    :class:`LeaseLost` if the lease slips away), or the single steps :meth:`try_acquire`,
    :meth:`renew` and :meth:`release`.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        holder: str | None = None,
        ttl_seconds: float = DEFAULT_LEASE_TTL_SECONDS,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        if not ttl_seconds > 0:
            raise ValueError("ttl_seconds must be > 0")
        self.namespace = namespace
        self.holder = holder or new_holder_id()
        self.ttl_seconds = ttl_seconds
        self.interval_seconds = ttl_seconds / 3
        """How often the holder renews and a standby tries."""
        self.clock: Clock = clock or RealClock()
        self._url = url
        self._wall_clock = wall_clock
        self._db: psycopg.Connection[tuple[Any, ...]] | None = None
        self.generation: int | None = None
        """The fencing token while held, else None."""

    @property
    def held(self) -> bool:
        """True while this replica holds the lease (as of the last acquire/renew)."""
        return self.generation is not None

    @property
    def max_takeover_seconds(self) -> float:
        """Return the longest a standby waits after the holder died: ttl + one try interval."""
        return self.ttl_seconds + self.interval_seconds

    # -- database steps (each in a worker thread) --------------------------------------------

    def _now_sql(self) -> tuple[str, dict[str, Any]]:
        if self._wall_clock is None:
            return "extract(epoch from clock_timestamp())::double precision", {}
        return "%(now)s::double precision", {"now": self._wall_clock()}

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._db is None or self._db.closed:
            self._db = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            apply_migrations(self._db, where=f"postgresql://{describe_url(self._url)}")
        return self._db

    def _run(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        try:
            return self._connection().execute(sql.encode(), params).fetchone()
        except psycopg.Error:
            if self._db is not None:
                self._db.close()
                self._db = None
            raise

    async def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; return True if held."""
        now, params = self._now_sql()
        row = await anyio.to_thread.run_sync(
            self._run,
            "INSERT INTO agentbot_lease (namespace, holder, generation, expires_at)"
            f" VALUES (%(ns)s, %(holder)s, 1, {now} + %(ttl)s)"
            " ON CONFLICT (namespace) DO UPDATE SET holder = excluded.holder,"
            " generation = agentbot_lease.generation"
            " + CASE WHEN agentbot_lease.holder = excluded.holder THEN 0 ELSE 1 END,"
            " expires_at = excluded.expires_at"
            f" WHERE agentbot_lease.holder = excluded.holder OR agentbot_lease.expires_at <= {now}"
            " RETURNING generation",
            {**params, "ns": self.namespace, "holder": self.holder, "ttl": self.ttl_seconds},
        )
        self.generation = None if row is None else int(row[0])
        return row is not None

    async def renew(self) -> bool:
        """Push the expiry out by ``ttl``; False if another replica took the lease."""
        if self.generation is None:
            return False
        now, params = self._now_sql()
        row = await anyio.to_thread.run_sync(
            self._run,
            f"UPDATE agentbot_lease SET expires_at = {now} + %(ttl)s"
            " WHERE namespace = %(ns)s AND holder = %(holder)s AND generation = %(gen)s"
            " RETURNING 1",
            {
                **params,
                "ns": self.namespace,
                "holder": self.holder,
                "gen": self.generation,
                "ttl": self.ttl_seconds,
            },
        )
        if row is None:
            self.generation = None
        return row is not None

    async def release(self) -> None:
        """Give the lease up (a standby takes it at its next try) and close the connection."""
        generation, self.generation = self.generation, None
        try:
            if generation is not None:
                await anyio.to_thread.run_sync(
                    self._run,
                    "UPDATE agentbot_lease SET expires_at = 0"  # kept: generations go on
                    " WHERE namespace = %(ns)s AND holder = %(holder)s AND generation = %(gen)s",
                    {"ns": self.namespace, "holder": self.holder, "gen": generation},
                )
        except psycopg.Error as exc:  # it expires on its own
            logger.warning("lease %s: release failed: %s", self.namespace, _first_line(exc))
        finally:
            self.close()

    def close(self) -> None:
        """Close the lease's connection without releasing (what a crash looks like)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- the task ----------------------------------------------------------------------------

    async def wait_acquired(self) -> None:
        """Try every ``interval_seconds`` until the lease is held (database errors retried)."""
        while True:
            try:
                if await self.try_acquire():
                    logger.info(
                        "lease %s: held by %s (generation %s)",
                        self.namespace,
                        self.holder,
                        self.generation,
                    )
                    return
            except psycopg.Error as exc:
                logger.warning(
                    "lease %s: cannot reach the database: %s", self.namespace, _first_line(exc)
                )
            await self.clock.sleep_until(self.clock.now() + self.interval_seconds)

    async def hold(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Acquire, report started, then renew until cancelled; release on the way out.

        Raises :class:`LeaseLost` when another replica took the lease or no renewal got
        through for ``ttl_seconds``: the caller must stop answering at once.
        """
        await self.wait_acquired()
        task_status.started()
        try:
            valid_until = self.clock.now() + self.ttl_seconds
            while True:
                await self.clock.sleep_until(self.clock.now() + self.interval_seconds)
                started = self.clock.now()
                try:
                    if not await self.renew():
                        raise LeaseLost(f"lease {self.namespace}: taken by another replica")
                    valid_until = started + self.ttl_seconds
                except psycopg.Error as exc:
                    logger.warning("lease %s: renewal failed: %s", self.namespace, _first_line(exc))
                    if self.clock.now() + self.interval_seconds >= valid_until:
                        self.generation = None
                        raise LeaseLost(
                            f"lease {self.namespace}: not renewed for {self.ttl_seconds:g} s"
                        ) from None
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await self.release()

    def __repr__(self) -> str:
        return f"Lease(namespace={self.namespace!r}, holder={self.holder!r}, held={self.held})"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
