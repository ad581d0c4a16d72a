"""PostgreSQL drivers side by side: asyncpg vs psycopg 3 (async, sync, sync via a thread).

The PostgreSQL store (agentbot/runtime/pg_storage.py) must run on asyncio *and* trio.
asyncpg and psycopg's ``AsyncConnection`` are asyncio-only; a plain (sync) psycopg
connection works under any loop when it is driven from a worker thread
(``anyio.to_thread.run_sync``), at the price of a thread hop per call. This script measures
what that price is next to the asyncio-only drivers, on the same server in the same run:

* ``read``: a primary-key SELECT of one row, one round trip per call;
* ``upsert``: ``INSERT … ON CONFLICT DO UPDATE`` of one row, autocommit;
* ``batch100``: 100 upserts in one transaction (``executemany``), the shape of a
  write-behind flush.

    python benchmarks/pg_driver.py                 # starts a throwaway server (tests/pg)
    python benchmarks/pg_driver.py --dsn postgresql://user@127.0.0.1:5432/db

Figures are µs per operation (median of the rounds); lower is better.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

ROWS = 1000
SCHEMA = """
DROP TABLE IF EXISTS bench_kv;
CREATE TABLE bench_kv (k TEXT PRIMARY KEY, v JSONB NOT NULL);
"""
UPSERT = (
    "INSERT INTO bench_kv (k, v) VALUES ({a}, {b}) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
)
READ = "SELECT v FROM bench_kv WHERE k = {a}"


def _sql(template: str, style: str) -> str:
    if style == "dollar":
        return template.format(a="$1", b="$2")
    return template.format(a="%s", b="%s")


def _timed(fn: Callable[[], None], ops: int) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) / ops * 1e6


async def _atimed(fn: Callable[[], Awaitable[None]], ops: int) -> float:
    started = time.perf_counter()
    await fn()
    return (time.perf_counter() - started) / ops * 1e6


def bench_psycopg_sync(dsn: str, n: int) -> dict[str, float]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        upsert, read = _sql(UPSERT, "pct"), _sql(READ, "pct")

        def do_upsert() -> None:
            for i in range(n):
                conn.execute(upsert, (f"k{i % ROWS}", '{"n": 1}'))

        def do_read() -> None:
            for i in range(n):
                conn.execute(read, (f"k{i % ROWS}",)).fetchone()

        def do_batch() -> None:
            for j in range(n // 100):
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(upsert, [(f"k{j}_{i}", '{"n": 2}') for i in range(100)])

        return {
            "upsert": _timed(do_upsert, n),
            "read": _timed(do_read, n),
            "batch100": _timed(do_batch, n // 100 * 100) * 100,
        }


async def bench_psycopg_thread(dsn: str, n: int) -> dict[str, float]:
    """Each call is its own ``to_thread.run_sync`` hop, as the store's slow path would do."""
    import psycopg

    conn = await anyio.to_thread.run_sync(lambda: psycopg.connect(dsn, autocommit=True))
    try:
        upsert, read = _sql(UPSERT, "pct"), _sql(READ, "pct")

        async def do_upsert() -> None:
            for i in range(n):
                await anyio.to_thread.run_sync(conn.execute, upsert, (f"k{i % ROWS}", '{"n": 1}'))

        async def do_read() -> None:
            for i in range(n):

                def fetch(key: str = f"k{i % ROWS}") -> None:
                    conn.execute(read, (key,)).fetchone()

                await anyio.to_thread.run_sync(fetch)

        async def do_batch() -> None:
            for j in range(n // 100):
                rows = [(f"k{j}_{i}", '{"n": 2}') for i in range(100)]

                def flush(rows: list[tuple[str, str]] = rows) -> None:
                    with conn.transaction(), conn.cursor() as cur:
                        cur.executemany(upsert, rows)

                await anyio.to_thread.run_sync(flush)

        return {
            "upsert": await _atimed(do_upsert, n),
            "read": await _atimed(do_read, n),
            "batch100": await _atimed(do_batch, n // 100 * 100) * 100,
        }
    finally:
        conn.close()


async def bench_psycopg_async(dsn: str, n: int) -> dict[str, float]:
    import psycopg

    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        upsert, read = _sql(UPSERT, "pct"), _sql(READ, "pct")

        async def do_upsert() -> None:
            for i in range(n):
                await conn.execute(upsert, (f"k{i % ROWS}", '{"n": 1}'))

        async def do_read() -> None:
            for i in range(n):
                await (await conn.execute(read, (f"k{i % ROWS}",))).fetchone()

        async def do_batch() -> None:
            for j in range(n // 100):
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.executemany(upsert, [(f"k{j}_{i}", '{"n": 2}') for i in range(100)])

        return {
            "upsert": await _atimed(do_upsert, n),
            "read": await _atimed(do_read, n),
            "batch100": await _atimed(do_batch, n // 100 * 100) * 100,
        }
    finally:
        await conn.close()


async def bench_asyncpg(dsn: str, n: int) -> dict[str, float]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        upsert, read = _sql(UPSERT, "dollar"), _sql(READ, "dollar")

        async def do_upsert() -> None:
            for i in range(n):
                await conn.execute(upsert, f"k{i % ROWS}", '{"n": 1}')

        async def do_read() -> None:
            for i in range(n):
                await conn.fetchrow(read, f"k{i % ROWS}")

        async def do_batch() -> None:
            for j in range(n // 100):
                async with conn.transaction():
                    await conn.executemany(upsert, [(f"k{j}_{i}", '{"n": 2}') for i in range(100)])

        return {
            "upsert": await _atimed(do_upsert, n),
            "read": await _atimed(do_read, n),
            "batch100": await _atimed(do_batch, n // 100 * 100) * 100,
        }
    finally:
        await conn.close()


def run_all(dsn: str, *, n: int, rounds: int) -> dict[str, dict[str, float]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)
    contenders: dict[str, Callable[[], dict[str, float]]] = {
        "asyncpg (asyncio only)": lambda: asyncio.run(bench_asyncpg(dsn, n)),
        "psycopg async (asyncio only)": lambda: asyncio.run(bench_psycopg_async(dsn, n)),
        "psycopg sync, on the caller's thread": lambda: bench_psycopg_sync(dsn, n),
        "psycopg sync via to_thread, asyncio": lambda: anyio.run(
            bench_psycopg_thread, dsn, n, backend="asyncio"
        ),
        "psycopg sync via to_thread, trio": lambda: anyio.run(
            bench_psycopg_thread, dsn, n, backend="trio"
        ),
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits everyone alike
        for name, fn in contenders.items():
            samples[name].append(fn())
    return {
        name: {op: statistics.median(s[op] for s in runs) for op in runs[0]}
        for name, runs in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an existing database (default: start a throwaway one)")
    parser.add_argument("-n", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.n < 100 or args.rounds < 1:
        parser.error("-n must be at least 100 (one 100-row batch) and --rounds at least 1")
    cluster: Any = None
    dsn = args.dsn
    if dsn is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from pg.cluster import PostgresCluster, find_pg_bin

        bin_dir = find_pg_bin()
        if bin_dir is None:
            print("PostgreSQL is not installed; pass --dsn", file=sys.stderr)
            return 2
        cluster = PostgresCluster(bin_dir)
        cluster.start()
        dsn = cluster.create_database("bench")
    try:
        results = run_all(dsn, n=args.n, rounds=args.rounds)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"µs per operation, median of {args.rounds} rounds of {args.n} ops (lower is better)")
    print(f"{'driver':40} {'read':>9} {'upsert':>9} {'batch100':>10}")
    for name, figures in results.items():
        print(
            f"{name:40} {figures['read']:9.1f} {figures['upsert']:9.1f} {figures['batch100']:10.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
