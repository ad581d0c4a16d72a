"""The PostgreSQL store against a real server: same behaviour as SQLite, plus namespaces."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.pg_storage import MIGRATIONS, PgStorage, describe_url
from agentbot.runtime.storage import KeyValueStore, Storage, StorageError

from .cluster import PostgresCluster


def open_store(dsn: str, namespace: str = "sandbox/bot-1", **options: object) -> PgStorage:
    return PgStorage(dsn, namespace=namespace, **options)  # type: ignore[arg-type]


def ledger_in(store: PgStorage, wall_clock: Callable[[], float] = lambda: 1796410455.72) -> Ledger:
    """The runtime's ledger in ``store``: its inbox holds the ids the bot took in."""
    return Ledger(store, store.namespace, wall_clock=wall_clock)


def test_plugin_values_survive_a_restart_and_stay_private_to_the_plugin(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        greeter = store.plugin_store("greeter")
        assert isinstance(greeter, KeyValueStore)
        assert isinstance(store, Storage)
        greeter.set("b", {"n": 1, "text": "čau"})
        greeter.set("a", [1, 2])
        greeter.set("gone", True)
        greeter.delete("gone")
        store.plugin_store("faq").set("a", "faq's own")
        assert greeter.get("a") == [1, 2]  # read back before any flush: memory
    with open_store(pg_dsn) as store:
        greeter = store.plugin_store("greeter")
        assert greeter.keys() == ["a", "b"]
        assert greeter.get("b") == {"n": 1, "text": "čau"}
        assert greeter.get("gone", "default") == "default"
        assert store.plugin_store("faq").get("a") == "faq's own"


def test_a_value_handed_out_is_a_copy(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        kv = store.plugin_store("p")
        kv.set("list", [1])
        kv.get("list").append(2)
        assert kv.get("list") == [1]


def test_a_value_json_cannot_hold_is_refused(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store, pytest.raises(StorageError, match="cannot store"):
        store.plugin_store("p").set("k", object())


def test_bots_sharing_a_database_never_see_each_others_rows(pg_dsn: str) -> None:
    with open_store(pg_dsn, "sandbox/a") as a, open_store(pg_dsn, "sandbox/b") as b:
        a.plugin_store("greeter").set("k", "a's")
        assert ledger_in(a).receive("m1", "c1", "hi")
        a.flush()
    with open_store(pg_dsn, "sandbox/b") as b:
        assert b.plugin_store("greeter").get("k") is None
        assert not ledger_in(b).seen("m1")
    with open_store(pg_dsn, "sandbox/a") as a:
        assert a.plugin_store("greeter").get("k") == "a's"
        assert ledger_in(a).seen("m1")


def test_taken_in_ids_survive_a_restart_and_age_out(pg_dsn: str) -> None:
    now = [1_000_000.0]
    with open_store(pg_dsn) as store:
        ledger = ledger_in(store, lambda: now[0])
        assert ledger.receive("m1", "c1", "hi")
        assert not ledger.receive("m1", "c1", "hi")
        now[0] += 3600
        ledger.receive("m3", "c1", "again")
    with open_store(pg_dsn) as store:
        ledger = ledger_in(store, lambda: now[0])
        assert ledger.seen("m1")
        assert not ledger.receive("m1", "c1", "hi")
        assert ledger.expire(closed_after_seconds=1800, idle_after_seconds=1800) == 1
    with open_store(pg_dsn) as store:
        ledger = ledger_in(store, lambda: now[0])
        assert not ledger.seen("m1")
        assert ledger.seen("m3")


def test_an_id_with_a_lone_surrogate_is_stored_and_recognised(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        assert ledger_in(store).receive("m\udc00", "c1", "hi")
    with open_store(pg_dsn) as store:
        assert ledger_in(store).seen("m\udc00")
        assert not ledger_in(store).seen("m\udc01")
        assert store.write_errors == 0


def test_the_old_seen_message_table_is_dropped_by_migration_two(pg_dsn: str) -> None:
    # A database at schema 1 holds agentbot_seen_message; the ledger's inbox replaced it.
    with psycopg.connect(pg_dsn, autocommit=True) as db:
        db.execute(
            "CREATE TABLE agentbot_schema_version (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        db.execute(MIGRATIONS[0].encode())
        db.execute("INSERT INTO agentbot_schema_version (version) VALUES (1)")
        db.execute("INSERT INTO agentbot_seen_message VALUES ('ns', 'm1', 1.0)")
        db.execute("INSERT INTO agentbot_plugin_kv VALUES ('sandbox/bot-1', 'p', 'k', '1', 1.0)")
    with open_store(pg_dsn) as store:
        assert store.schema_version == len(MIGRATIONS) >= 2
        assert store.plugin_store("p").get("k") == 1
    with psycopg.connect(pg_dsn) as db:
        row = db.execute("SELECT to_regclass('agentbot_seen_message')").fetchone()
    assert row == (None,)


def test_migrations_run_once_and_a_newer_schema_is_refused(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        assert store.schema_version == len(MIGRATIONS)
    with open_store(pg_dsn) as store:  # a second start applies nothing again
        rows = store.execute("SELECT count(*) FROM agentbot_schema_version").first()
        assert rows == (len(MIGRATIONS),)
        store.execute("INSERT INTO agentbot_schema_version (version) VALUES (?)", (999,))
    with pytest.raises(ConfigError, match="newer than this agentbot knows"):
        open_store(pg_dsn)


def test_execute_and_ensure_schema_serve_other_runtime_tables(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        store.ensure_schema(
            "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS outbox_body ON outbox (body);"
        )
        store.ensure_schema("CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY)")
        inserted = store.execute("INSERT INTO outbox VALUES (?, ?)", ("1", "50% off? yes"))
        assert inserted.rowcount == 1
        assert store.execute("SELECT body FROM outbox WHERE id = %s", ("1",)).rows == [
            ("50% off? yes",)
        ]
        with pytest.raises(StorageError):
            store.execute("SELECT nope FROM outbox")


def test_real_columns_keep_epoch_timestamps_exact_as_in_sqlite(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        store.ensure_schema(
            "CREATE TABLE IF NOT EXISTS times (id TEXT PRIMARY KEY, at REAL NOT NULL,"
            " maybe REAL, real_name TEXT)"
        )
        store.execute("INSERT INTO times VALUES (?, ?, ?, ?)", ("a", 1796410455.72, 0.5, "REAL"))
        assert store.execute("SELECT at, maybe, real_name FROM times").rows == [
            (1796410455.72, 0.5, "REAL")
        ]


def test_the_runtime_ledger_runs_on_postgres(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        ledger = ledger_in(store)
        assert ledger.receive("m1", "c1", "hi")
        assert not ledger.receive("m1", "c1", "hi")
        assert ledger.seen("m1")
        assert ledger.depth() == 0


def test_execute_sees_writes_made_just_before(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        for n in range(200):
            store.plugin_store("p").set(f"k{n:03}", n)
        rows = store.execute(
            "SELECT count(*) FROM agentbot_plugin_kv WHERE namespace = ?", (store.namespace,)
        )
        assert rows.first() == (200,)


async def test_wait_flushed_makes_writes_durable_on_any_event_loop(pg_dsn: str) -> None:
    with open_store(pg_dsn) as store:
        store.plugin_store("p").set("k", 1)
        store.plugin_store("p").set("j", 2)
        await store.wait_flushed()
        assert store.pending_writes == 0
        with psycopg.connect(pg_dsn) as other:
            row = other.execute("SELECT count(*) FROM agentbot_plugin_kv").fetchone()
        assert row == (2,)


def test_claims_skip_rows_another_replica_holds(pg_dsn: str) -> None:
    with open_store(pg_dsn) as a, open_store(pg_dsn) as b:
        leads_a = a.plugin_store("after_hours")
        for n in range(4):
            record = {"payload": {"id": n}, "next_attempt_at": 100.0, "delivered_at": None}
            leads_a.set(f"outbox:{n}", record)
        leads_a.set("outbox:done", {"next_attempt_at": 1.0, "delivered_at": 50.0})
        leads_a.set("outbox:later", {"next_attempt_at": 900.0, "delivered_at": None})
        a.flush()
        with psycopg.connect(pg_dsn) as holder, holder.transaction():
            holder.execute("SELECT 1 FROM agentbot_plugin_kv WHERE key = 'outbox:0' FOR UPDATE")
            got_b = b.plugin_store("after_hours").claim_due(
                "outbox:", now=200.0, claim_seconds=60.0, limit=2
            )
            # Row 0 is locked elsewhere: skipped, not waited for.
            assert [key for key, _ in got_b] == ["outbox:1", "outbox:2"]
        got_a = leads_a.claim_due("outbox:", now=200.0, claim_seconds=60.0)
        assert [key for key, _ in got_a] == ["outbox:0", "outbox:3"]  # b's claims are taken
        assert leads_a.get("outbox:0")["next_attempt_at"] == 260.0
        # Past the claim window an unfinished claim is due again.
        again = leads_a.claim_due("outbox:", now=261.0, claim_seconds=60.0)
        assert [key for key, _ in again] == ["outbox:0", "outbox:1", "outbox:2", "outbox:3"]


def test_an_unreachable_server_is_a_config_error_without_the_password(
    pg_cluster: PostgresCluster,
) -> None:
    url = "postgresql://bot:s3cret-pw@127.0.0.1:1/agentbot"
    with pytest.raises(ConfigError) as caught:
        PgStorage(url, namespace="x", connect_timeout_seconds=1)
    assert "s3cret-pw" not in str(caught.value)
    assert caught.value.key == "storage_url"
    assert describe_url(url) == "127.0.0.1:1/agentbot"


def test_repr_names_the_server_not_the_credentials(pg_cluster: PostgresCluster) -> None:
    dsn = pg_cluster.dsn().replace("postgres@", "postgres:pw-here@")
    with PgStorage(dsn, namespace="n") as store:
        assert "pw-here" not in repr(store)
        assert repr(store) == f"PgStorage('127.0.0.1:{pg_cluster.port}/postgres', namespace='n')"
