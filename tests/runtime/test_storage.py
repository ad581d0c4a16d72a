"""SQLite storage: per-plugin key-value stores and the ledger's tables, across reopen.

The ids the bot answered live in the ledger's ``inbox`` (``agentbot/runtime/ledger.py``), so
what must hold for them on a failing or replaced file is checked through a real Ledger.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.bot import Bot
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.storage import (
    MEMORY,
    KeyValueStore,
    Storage,
    StorageError,
    StorageFailed,
)
from agentbot.runtime.wiring import bot_namespace

from .conftest import make_config


def ledger_in(storage: Storage, wall_clock: Callable[[], float] = lambda: 1000.0) -> Ledger:
    """The ledger the runtime keeps in ``storage`` (its inbox holds the answered ids)."""
    return Ledger(storage, "ns", wall_clock=wall_clock)


def take(ledger: Ledger, message_id: str) -> bool:
    """Take a visitor message in, as dispatch does; False means "seen before: do not answer"."""
    return ledger.receive(message_id, "c1", "hello")


def test_plugin_values_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "bot.sqlite3"
    with Storage(path) as storage:
        store = storage.plugin_store("greeter")
        store.set("greeted:v1", {"at": 1.5, "names": ["Ann"]})
        store.set("count", 3)
    with Storage(path) as storage:
        store = storage.plugin_store("greeter")
        assert store.get("greeted:v1") == {"at": 1.5, "names": ["Ann"]}
        assert store.get("count") == 3


def test_plugins_do_not_see_each_others_keys() -> None:
    with Storage(MEMORY) as storage:
        a, b = storage.plugin_store("a"), storage.plugin_store("b")
        a.set("k", 1)
        assert b.get("k") is None
        assert b.get("k", "default") == "default"
        assert isinstance(a, KeyValueStore)


def test_set_replaces_delete_removes_and_keys_filter_by_prefix() -> None:
    with Storage(MEMORY) as storage:
        store = storage.plugin_store("faq")
        store.set("hits:b", 1)
        store.set("hits:a", 1)
        store.set("hits:a", 2)
        store.set("other", None)
        assert store.get("hits:a") == 2
        assert store.keys("hits:") == ["hits:a", "hits:b"]
        assert store.keys() == ["hits:a", "hits:b", "other"]
        store.delete("hits:a")
        store.delete("never-there")
        assert store.keys("hits:") == ["hits:b"]
        assert store.keys("%") == []  # prefix is literal, not a LIKE pattern


def test_unserializable_value_is_a_storage_error() -> None:
    with Storage(MEMORY) as storage:
        with pytest.raises(StorageError, match="cannot store 'x'"):
            storage.plugin_store("p").set("x", object())
        with pytest.raises(StorageError):
            storage.plugin_store("p").set("nan", float("nan"))


def test_taken_in_ids_are_new_once_even_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert take(ledger, "m1") is True
        assert take(ledger, "m1") is False
        assert ledger.seen("m1")
        assert not ledger.seen("m2")
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert ledger.seen("m1")
        assert take(ledger, "m1") is False
        assert take(ledger, "m2") is True


def test_seen_retention_days_prunes_the_ledgers_inbox_at_open() -> None:
    # [runtime] seen_retention_days: how long answered ids (the ledger's inbox) are kept.
    day = 86400.0
    now = [1000.0]
    config = make_config(runtime={"seen_retention_days": 1.0})
    with Storage(MEMORY, wall_clock=lambda: now[0]) as storage:
        earlier = Ledger(storage, bot_namespace(config), wall_clock=lambda: now[0])
        take(earlier, "old")
        now[0] += 2 * day
        take(earlier, "new")
        now[0] += 0.5 * day
        ledger = Bot(config, storage=storage, wall_clock=lambda: now[0]).ledger
        assert not ledger.seen("old")  # two and a half days: past retention, forgotten
        assert ledger.seen("new")  # half a day: still never answered twice
        assert take(ledger, "old") is True


def test_use_after_close_is_a_storage_error() -> None:
    storage = Storage(MEMORY)
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.plugin_store("p").get("k")


def test_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot open storage") as info:
        Storage(blocker / "sub" / "bot.sqlite3")
    assert info.value.key == "storage_path"


def test_an_old_files_seen_message_table_is_dropped_and_its_data_kept(tmp_path: Path) -> None:
    # Files from before the ledger's inbox took over answered ids hold ``seen_message``.
    path = tmp_path / "bot.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE seen_message (message_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);"
        "INSERT INTO seen_message VALUES ('m1', 1.0);"
        "CREATE TABLE plugin_kv (plugin TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " updated_at REAL NOT NULL, PRIMARY KEY (plugin, key)) WITHOUT ROWID;"
        "INSERT INTO plugin_kv VALUES ('p', 'k', '1', 1.0);"
    )
    old.close()
    with Storage(path) as storage:
        tables = storage.execute("SELECT name FROM sqlite_master WHERE type = 'table'").rows
        assert ("seen_message",) not in tables
        assert ("plugin_kv",) in tables
        assert storage.plugin_store("p").get("k") == 1
        assert not storage.in_memory


# -- issue 16: lone surrogates, the guarded API, and a store that fails --------------------------

LONE = "\udc00x"  # valid JSON ("\udc00x"), not encodable as UTF-8: SQLite cannot bind it as text


def test_lone_surrogates_in_ids_keys_and_values_are_stored_exactly(tmp_path: Path) -> None:
    # Before issue 16, binding such an id raised UnicodeEncodeError out of dispatch.
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert take(ledger, LONE) is True
        assert take(ledger, LONE) is False
        assert take(ledger, "\udc01x") is True  # a different lone surrogate stays distinct
        store = storage.plugin_store("p")
        store.set(LONE, {"text": LONE})
        assert store.get(LONE) == {"text": LONE}
        assert store.keys() == [LONE]
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert ledger.seen(LONE)
        assert not ledger.seen("\udc02x")
        assert {r.message_id for r in ledger.undecided()} == {LONE, "\udc01x"}  # read back exact
        assert storage.plugin_store("p").get(LONE) == {"text": LONE}


def test_ensure_schema_and_execute_run_other_tables_through_the_same_store(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    schema = "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL);"
    with Storage(path) as storage:
        storage.ensure_schema(schema)
        assert storage.execute("INSERT INTO outbox VALUES (?, ?)", ("a", "hi")).rowcount == 1
        with pytest.raises(StorageError, match="UNIQUE"):  # a wrong statement is the caller's
            storage.execute("INSERT INTO outbox VALUES (?, ?)", ("a", "again"))
        assert not storage.in_memory
    with Storage(path) as storage:
        storage.ensure_schema(schema)
        assert storage.execute("SELECT id, body FROM outbox").rows == [("a", "hi")]
        assert storage.execute("SELECT 1 FROM outbox WHERE id = ?", ("b",)).first() is None


def test_a_second_bot_cannot_share_the_file(tmp_path: Path) -> None:
    # Two bots on one file would both answer; the exclusive lock says so at start.
    path = tmp_path / "bot.sqlite3"
    with Storage(path, on_error="stop"), pytest.raises(StorageError, match="locked"):
        Storage(path, on_error="stop")


def test_no_shared_memory_file_is_used(tmp_path: Path) -> None:
    # The -shm file is mmapped; on a file that cannot grow that is SIGBUS, not an error.
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        take(ledger_in(storage), "m1")
        assert not Path(f"{path}-shm").exists()


def test_a_file_that_is_not_a_database_is_a_logged_error_and_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentbot.runtime.storage")  # whatever root is
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database, just some bytes " * 100)
    with Storage(path) as storage:
        assert storage.in_memory
        assert storage.failure is not None
        ledger = ledger_in(storage)
        assert take(ledger, "m1") is True
        assert take(ledger, "m1") is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "going on in memory" in errors[0]
    with pytest.raises(StorageFailed, match="cannot be used"):
        Storage(path, on_error="stop")


def test_deleted_file_is_written_out_again_and_nothing_answered_is_forgotten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentbot.runtime.storage")  # whatever root is
    # Before: writes went on into the unlinked inode; the next start found an empty file
    # and answered replayed messages a second time.
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        storage.ensure_schema("CREATE TABLE IF NOT EXISTS extra (v TEXT);")
        ledger = ledger_in(storage)
        take(ledger, "before")
        storage.plugin_store("p").set("k", 1)
        path.unlink()
        take(ledger, "after")
        assert path.exists()
        assert not storage.in_memory
        path.unlink()
        path.write_bytes(b"")  # replaced by another file: ours is still the truth
        take(ledger, "third")
    assert sum("deleted or replaced" in r.getMessage() for r in caplog.records) == 2
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert all(ledger.seen(i) for i in ("before", "after", "third"))
        assert storage.plugin_store("p").get("k") == 1
        assert storage.execute("SELECT count(*) FROM extra").rows == [(0,)]


def _chattr(flag: str, path: Path) -> None:
    try:
        subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"chattr {flag} not possible here: {exc}")


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    made: list[Path] = []

    def make(path: Path) -> None:
        _chattr("+i", path)
        made.append(path)

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_immutable_file_while_running_goes_on_in_memory_and_never_doubles(
    tmp_path: Path, immutable: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentbot.runtime.storage")  # whatever root is
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        take(ledger_in(storage), "answered")
        storage.plugin_store("p").set("k", "v")
    # Before issue 16, a bot on an immutable file died of SIGBUS (the mmapped -shm file).
    immutable(path)
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        assert take(ledger, "answered") is False  # what the file held still counts
        assert take(ledger, "new") is True  # the first write fails over to memory
        assert storage.in_memory
        assert take(ledger, "new") is False
        assert take(ledger, "answered") is False
        assert storage.plugin_store("p").get("k") == "v"
        storage.plugin_store("p").set("k", "w")
        assert storage.plugin_store("p").get("k") == "w"
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "going on in memory" in errors[0].getMessage()


def test_immutable_file_with_stop_is_one_error_at_start_and_every_use_after(
    tmp_path: Path, immutable: Callable[[Path], None]
) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        take(ledger_in(storage), "answered")
    immutable(path)
    with pytest.raises(StorageFailed, match="cannot be used"):
        Storage(path, on_error="stop")
    other = tmp_path / "other.sqlite3"
    with Storage(other, on_error="stop") as storage:
        ledger = ledger_in(storage)
        take(ledger, "a")
        immutable(other)
        immutable(Path(f"{other}-wal"))
        with pytest.raises(StorageFailed, match=r"I/O"):
            take(ledger, "m1")
        with pytest.raises(StorageFailed):
            storage.plugin_store("p").get("k")


def test_file_made_immutable_under_a_running_store(
    tmp_path: Path, immutable: Callable[[Path], None]
) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        ledger = ledger_in(storage)
        take(ledger, "a")
        wal = Path(f"{path}-wal")
        immutable(path)
        if wal.exists():
            immutable(wal)
        for i in range(2000):  # enough for a WAL checkpoint into the immutable file
            take(ledger, f"m{i}")
        assert storage.in_memory
        assert ledger.seen("a")
        assert ledger.seen("m1999")
