"""Durable state on SQLite: each plugin's key-value store and the ids the bot has seen.

Two jobs, one file:

* ``bot.storage`` for plugins — a small key-value store per plugin (JSON values), so a
  greeter can remember whom it greeted and an FAQ its hit counts, across restarts. Plugins
  see only the :class:`KeyValueStore` protocol, so a shared server store can replace SQLite
  later without touching them.
* the seen-message store — the runtime's promise "never answer the same visitor message
  twice" must survive a restart (the server may replay recent messages after a reconnect),
  so every visitor message id the bot answers is written here before the answer is sent.

SQLite calls are synchronous and run on the event loop thread: each is a single-row write to
a WAL database with ``synchronous=NORMAL`` (no fsync per commit), tens of microseconds, which
is cheaper than a thread hop and keeps plugin code simple (no ``await`` to read a setting).
"""

from __future__ import annotations

import collections
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agentbot.errors import AgentbotError, ConfigError

__all__ = ["MEMORY", "KeyValueStore", "PluginStore", "SeenMessages", "Storage", "StorageError"]

#: Pass as ``path`` to keep everything in memory (tests, ``agentbot check``).
MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plugin_kv (
    plugin TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (plugin, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_message (
    message_id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
) WITHOUT ROWID;
"""


class StorageError(AgentbotError):
    """The store cannot be opened or a value cannot be stored (e.g. not JSON-serializable)."""


@runtime_checkable
class KeyValueStore(Protocol):
    """What a plugin's ``bot.storage`` offers. Values are anything JSON can hold."""

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default``."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serializable) under ``key``, replacing any old value."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is absent."""
        ...

    def keys(self, prefix: str = "") -> list[str]:
        """Return the stored keys starting with ``prefix``, sorted."""
        ...


class Storage:
    """One SQLite database holding every plugin's store and the seen message ids.

    ``path`` may be :data:`MEMORY`. Parent directories are created. ``wall_clock`` gives
    the timestamps stored with rows (wall time: retention is measured in days, across
    restarts, unlike the runtime's monotonic clock).
    """

    def __init__(self, path: str | Path, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._wall_clock = wall_clock
        try:
            if str(path) != MEMORY:
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(
                f"cannot open storage {str(path)!r}: {exc}", section="runtime", key="storage_path"
            ) from None
        self._closed = False
        self.seen = SeenMessages(self)

    def plugin_store(self, plugin: str) -> PluginStore:
        """Return the key-value store private to ``plugin``."""
        return PluginStore(self, plugin)

    def close(self) -> None:
        """Close the database; further use raises :class:`StorageError`."""
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        if self._closed:
            raise StorageError("storage is closed")
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"storage error: {exc}") from None

    def _now(self) -> float:
        return self._wall_clock()

    def __repr__(self) -> str:
        return f"Storage({str(self.path)!r})"


class PluginStore:
    """A plugin's private key-value store (implements :class:`KeyValueStore`)."""

    def __init__(self, storage: Storage, plugin: str) -> None:
        self._storage = storage
        self.plugin = plugin

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default``."""
        row = self._storage._execute(
            "SELECT value FROM plugin_kv WHERE plugin = ? AND key = ?", (self.plugin, key)
        ).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``; :class:`StorageError` if it is not JSON-serializable."""
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"cannot store {key!r} for {self.plugin!r}: {exc}") from None
        self._storage._execute(
            "INSERT INTO plugin_kv (plugin, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (self.plugin, key, encoded, self._storage._now()),
        )

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is absent."""
        self._storage._execute(
            "DELETE FROM plugin_kv WHERE plugin = ? AND key = ?", (self.plugin, key)
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Return this plugin's keys starting with ``prefix``, sorted."""
        rows = self._storage._execute(
            "SELECT key FROM plugin_kv WHERE plugin = ? AND substr(key, 1, ?) = ? ORDER BY key",
            (self.plugin, len(prefix), prefix),
        ).fetchall()
        return [row[0] for row in rows]

    def __repr__(self) -> str:
        return f"PluginStore(plugin={self.plugin!r})"


class SeenMessages:
    """Remembers which visitor message ids the bot has taken on and answered.

    Two steps, so the durable write stays off the latency-critical path (a visitor message
    arriving → typing true leaving) and means exactly "answered":

    * :meth:`reserve` when a message arrives: False if it was seen before — in this process
      (an in-memory LRU) or answered in an earlier run (a primary-key lookup in SQLite);
    * :meth:`add` (the durable write) when the bot is about to send the answer. A message the
      bot never answered (cancelled by a human, crash before sending) is not stored, so after
      a restart a replay of it may still be answered — once.
    """

    CACHE_SIZE = 16384

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._cache: collections.OrderedDict[str, None] = collections.OrderedDict()

    def reserve(self, message_id: str) -> bool:
        """Take ``message_id`` on; return False if seen before (here or answered earlier)."""
        if message_id in self._cache:
            self._cache.move_to_end(message_id)
            return False
        row = self._storage._execute(
            "SELECT 1 FROM seen_message WHERE message_id = ?", (message_id,)
        ).fetchone()
        self._remember(message_id)
        return row is None

    def add(self, message_id: str) -> bool:
        """Record ``message_id`` durably; return True if it was not stored before."""
        cursor = self._storage._execute(
            "INSERT OR IGNORE INTO seen_message (message_id, seen_at) VALUES (?, ?)",
            (message_id, self._storage._now()),
        )
        self._remember(message_id)
        return cursor.rowcount == 1

    def __contains__(self, message_id: object) -> bool:
        if not isinstance(message_id, str):
            return False
        if message_id in self._cache:
            return True
        row = self._storage._execute(
            "SELECT 1 FROM seen_message WHERE message_id = ?", (message_id,)
        ).fetchone()
        return row is not None

    def prune(self, *, older_than_seconds: float) -> int:
        """Forget ids recorded more than ``older_than_seconds`` ago; return how many."""
        cursor = self._storage._execute(
            "DELETE FROM seen_message WHERE seen_at < ?",
            (self._storage._now() - older_than_seconds,),
        )
        self._cache.clear()
        return cursor.rowcount

    def _remember(self, message_id: str) -> None:
        self._cache[message_id] = None
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
