"""Retention runs daily while a bot runs, on the PostgreSQL store too (issue 14 item 4).

A real PostgreSQL (``tests/pg``'s fixture) and the bot's store in it; the days pass on a
virtual clock. The old delivered lead is written after the start-up pruning, so only the
daily one can forget it; the pending lead is never forgotten (it has not reached the
webhook yet).
"""

from __future__ import annotations

import anyio
import psycopg

from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.pg_storage import PgStorage
from agentbot.runtime.retention import PRUNE_INTERVAL_SECONDS, prune_daily
from tests.pg.conftest import pg_cluster, pg_dsn  # noqa: F401 - fixtures

NOW = 1_800_000_000.0
DAY = 86400.0


def lead_keys(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as db:
        rows = db.execute(
            "SELECT key FROM agentbot_plugin_kv WHERE plugin = 'after_hours' ORDER BY key"
        ).fetchall()
    return [row[0] for row in rows]


async def test_a_running_bot_prunes_its_postgresql_store_daily(
    anyio_backend: str,
    pg_dsn: str,  # noqa: F811 - the fixture
) -> None:
    config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(agent_id="bot-1", key="k"),
        runtime=RuntimeSettings(lead_retention_days=30),
    )
    clock = VirtualClock()
    storage = PgStorage(pg_dsn, namespace="retention-test")
    try:
        bot = Bot(config, storage=storage, clock=clock, wall_clock=lambda: NOW, entry_points={})
        bot.ledger  # noqa: B018 - opened: the start-up pruning is behind us
        leads = storage.plugin_store("after_hours")
        leads.set("outbox:old", {"payload": {}, "delivered_at": NOW - 31 * DAY})
        leads.set("outbox:pending", {"payload": {}, "delivered_at": None})
        assert storage.flush(timeout_seconds=10)
        async with anyio.create_task_group() as tg:
            tg.start_soon(prune_daily, bot)
            with anyio.fail_after(10):
                await clock.wait_sleepers(1)
            assert lead_keys(pg_dsn) == ["outbox:old", "outbox:pending"]
            await clock.advance(PRUNE_INTERVAL_SECONDS)
            with anyio.fail_after(10):
                await clock.wait_sleepers(1)  # pruned, and asleep until the next day
            tg.cancel_scope.cancel()
        assert storage.flush(timeout_seconds=10)
        assert lead_keys(pg_dsn) == ["outbox:pending"]
        assert clock.sleeps == [PRUNE_INTERVAL_SECONDS, PRUNE_INTERVAL_SECONDS]
    finally:
        storage.close()
