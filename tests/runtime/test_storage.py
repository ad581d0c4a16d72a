"""SQLite storage: per-plugin key-value stores and the seen-message ids, across reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.storage import MEMORY, KeyValueStore, Storage, StorageError


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


def test_seen_ids_are_new_once_even_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        assert storage.seen.add("m1") is True
        assert storage.seen.add("m1") is False
        assert "m1" in storage.seen
        assert "m2" not in storage.seen
    with Storage(path) as storage:
        assert "m1" in storage.seen
        assert storage.seen.add("m1") is False
        assert storage.seen.add("m2") is True


def test_seen_ids_past_retention_are_pruned() -> None:
    now = [1000.0]
    with Storage(MEMORY, wall_clock=lambda: now[0]) as storage:
        storage.seen.add("old")
        now[0] = 2000.0
        storage.seen.add("new")
        assert storage.seen.prune(older_than_seconds=500) == 1
        assert "old" not in storage.seen
        assert "new" in storage.seen


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


def test_reserve_catches_repeats_in_process_and_answers_from_earlier_runs(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        assert storage.seen.reserve("answered") is True
        storage.seen.add("answered")
        assert storage.seen.reserve("only-reserved") is True
        assert storage.seen.reserve("only-reserved") is False  # same process: a repeat
    with Storage(path) as storage:
        assert storage.seen.reserve("answered") is False  # answered in an earlier run
        assert storage.seen.reserve("only-reserved") is True  # never answered: may be now
