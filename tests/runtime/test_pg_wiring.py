"""``[runtime] storage_url``: the bot's plugin storage and ledger on PostgreSQL, one namespace.

A real PostgreSQL server (``tests/pg``'s fixtures: initdb + pg_ctl on loopback). What must
hold for a failover to neither lose nor double a reply: the ledger, the plugin rows and the
lease all use one namespace, and every ledger write that precedes a send is committed —
visible to another connection, as to a replica taking over — by the time it returns.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from agentbot.runtime.bot import Bot
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.launcher import config_secrets
from agentbot.runtime.ledger import OutboxEntry, namespace_for
from agentbot.runtime.pg_storage import PgStorage
from agentbot.runtime.storage import Storage
from agentbot.runtime.wiring import bot_namespace, open_storage
from tests.pg.conftest import pg_cluster, pg_dsn  # noqa: F401 - fixtures

URL = "https://websocket.smartsupp.com"


def config_for(tmp_path: Path, runtime: str = "") -> BotConfig:
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[smartsupp]\nurl = "{URL}"\nagent_id = "42"\nkey = "account-key"\n[runtime]\n{runtime}',
        encoding="utf-8",
    )
    return load_config(path, env={})


def test_the_namespace_is_the_ledgers_rule_or_the_configured_one(tmp_path: Path) -> None:
    assert bot_namespace(config_for(tmp_path)) == namespace_for(URL, "42", "account-key")
    assert bot_namespace(config_for(tmp_path, 'storage_namespace = "acme/bot"\n')) == "acme/bot"
    assert "account-key" not in bot_namespace(config_for(tmp_path))


def test_without_storage_url_the_store_is_sqlite(tmp_path: Path) -> None:
    store = open_storage(config_for(tmp_path, 'storage_path = "bot.sqlite3"\n'))
    try:
        assert type(store) is Storage
    finally:
        store.close()


def test_storage_url_puts_plugins_and_ledger_in_postgres_under_one_namespace(
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811 - the fixture
) -> None:
    config = config_for(tmp_path, f'storage_url = "{pg_dsn}"\n')
    bot = Bot(config)
    ledger = bot.ledger
    storage = bot._storage
    assert isinstance(storage, PgStorage)
    assert storage.namespace == ledger.namespace == bot_namespace(config)
    bot.plugin_storage("leads").set("lead:1", {"email": "ada@example.com"})
    ledger.plan([OutboxEntry(entry_id="e1", chat_id="c1", visitor_id="v1", text="hello")])
    # No flush, no close: what the ledger wrote before a send is already committed, and
    # so is every plugin write made before it.
    with psycopg.connect(pg_dsn, autocommit=True) as other:
        rows = other.execute("SELECT namespace, state FROM outbox").fetchall()
        assert rows == [(ledger.namespace, "planned")]
        ledger.attempt("e1")
        rows = other.execute("SELECT state, attempted_at IS NOT NULL FROM outbox").fetchall()
        assert rows == [("sending", True)]
        kv = other.execute("SELECT namespace, plugin, key FROM agentbot_plugin_kv").fetchall()
        assert kv == [(ledger.namespace, "leads", "lead:1")]
    storage.close()


def test_a_replica_opening_later_sees_what_the_first_planned(
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811 - the fixture
) -> None:
    config = config_for(tmp_path, f'storage_url = "{pg_dsn}"\n')
    first = Bot(config)
    first.ledger.plan([OutboxEntry(entry_id="e1", chat_id="c1", visitor_id="v1", text="hi")])
    first.ledger.attempt("e1")
    assert first.ledger.receive("m1", "c1", "hello?")
    # The first replica "dies" here: nothing is flushed or closed on its behalf.
    second = Bot(config)
    try:
        assert [e.state for e in second.ledger.unsettled()] == ["sending"]
        assert not second.ledger.receive("m1", "c1", "hello?")  # taken in before
    finally:
        for bot in (first, second):
            assert bot._storage is not None
            bot._storage.close()


@pytest.mark.parametrize("password", ["pw-secret-1"])
def test_the_storage_url_is_a_secret_for_the_log_redaction(tmp_path: Path, password: str) -> None:
    url = f"postgresql://bot:{password}@127.0.0.1:1/db"
    assert url in config_secrets(config_for(tmp_path, f'storage_url = "{url}"\n'))
