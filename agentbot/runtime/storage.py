"""Durable state on SQLite: each plugin's key-value store and the tables runtime parts add.

* ``bot.storage`` for plugins — a small key-value store per plugin (JSON values), so a
  greeter can remember whom it greeted and an FAQ its hit counts, across restarts. Plugins
  see only the :class:`KeyValueStore` protocol, so a shared server store can replace SQLite
  later without touching them.
* the runtime's own tables — above all the ledger's (:mod:`agentbot.runtime.ledger`: its
  ``inbox`` is what keeps the promise "never answer the same visitor message twice" across
  a restart) — added with :meth:`Storage.ensure_schema` and used through
  :meth:`Storage.execute`.

SQLite calls are synchronous and run on the event loop thread: each is a single-row write to
a WAL database with ``synchronous=NORMAL`` (no fsync per commit), tens of microseconds, which
is cheaper than a thread hop and keeps plugin code simple (no ``await`` to read a setting).

A store that fails must not take the bot down. Every statement — ours and the tables other
runtime parts add with :meth:`Storage.ensure_schema` / :meth:`Storage.execute` — goes through
one guarded place (``Storage._guarded``), which:

* never lets SQLite touch shared memory: ``locking_mode=EXCLUSIVE`` keeps the WAL index on
  the heap (no ``-shm`` file, whose mmap is what died with SIGBUS on an immutable file) and
  ``mmap_size=0`` keeps database pages out of mmap too. The exclusive lock also keeps a
  second bot off the same file, which would otherwise answer the same messages;
* notices the file being deleted or replaced under a running bot (SQLite would go on writing
  to the unlinked inode, and the next start would find an empty file and answer replayed
  messages again) and writes the open database out again to the path;
* turns a file that can no longer be written (read-only, immutable, disk full, I/O error,
  corrupt) into one clear logged error and then, per ``[runtime] on_storage_error``, either
  keeps going on an in-memory copy (``"memory"``, the default: the bot keeps answering and
  still never answers a message twice within this run) or raises :class:`StorageFailed` on
  every further use (``"stop"``).

Text with lone surrogates (valid JSON ``"\\udc00"`` from the wire, which SQLite cannot bind
as UTF-8) is stored as its ``surrogatepass`` UTF-8 bytes, a BLOB no valid text can equal, so
ids stay exact and distinct; :func:`as_text` turns such a value read back into the string.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import attrs

from agentbot.errors import AgentbotError, ConfigError

__all__ = [
    "MEMORY",
    "ON_STORAGE_ERROR_CHOICES",
    "KeyValueStore",
    "OnStorageError",
    "PluginStore",
    "Rows",
    "Storage",
    "StorageError",
    "StorageFailed",
    "as_text",
]

logger = logging.getLogger(__name__)

#: Pass as ``path`` to keep everything in memory (tests, ``agentbot check``).
MEMORY = ":memory:"

OnStorageError = Literal["memory", "stop"]
ON_STORAGE_ERROR_CHOICES: tuple[OnStorageError, ...] = ("memory", "stop")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plugin_kv (
    plugin TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (plugin, key)
) WITHOUT ROWID;
-- Files written before the ledger's inbox took over answered ids still hold this table.
DROP TABLE IF EXISTS seen_message;
"""

# Primary result codes that mean "the file cannot be used", not "this statement is wrong":
# https://www.sqlite.org/rescode.html. A constraint or syntax error stays the caller's error.
_FAILURE_CODES = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)

_T = TypeVar("_T")


class StorageError(AgentbotError):
    """The store cannot be opened or a value cannot be stored (e.g. not JSON-serializable)."""


class StorageFailed(StorageError):
    """The store's file cannot be used any more and ``on_storage_error`` is ``"stop"``."""


@attrs.frozen(slots=True)
class Rows:
    """What :meth:`Storage.execute` returns: every row fetched, and SQLite's row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        """Return the first row, or None when there is none."""
        return self.rows[0] if self.rows else None


def as_text(value: Any) -> Any:
    """Return a stored text value as ``str``: undo the BLOB form of lone-surrogate text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value


def _escape_params(params: Sequence[Any]) -> tuple[Any, ...]:
    """Replace each str SQLite cannot encode by its surrogatepass UTF-8 bytes."""
    escaped = []
    for value in params:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                value = value.encode("utf-8", "surrogatepass")
        escaped.append(value)
    return tuple(escaped)


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:6].upper() != "SELECT"


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
    """One SQLite database holding every plugin's store and the runtime's tables (the ledger).

    ``path`` may be :data:`MEMORY`. Parent directories are created. ``wall_clock`` gives
    the timestamps stored with rows (wall time: retention is measured in days, across
    restarts, unlike the runtime's monotonic clock). ``on_error`` says what a file that can
    no longer be used leads to (see the module docstring): ``"memory"`` or ``"stop"``.

    Raises :class:`~agentbot.errors.ConfigError` when the folder cannot be created, and
    :class:`StorageFailed` when the file cannot be used and ``on_error`` is ``"stop"``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        wall_clock: Callable[[], float] = time.time,
        on_error: OnStorageError = "memory",
    ) -> None:
        if on_error not in ON_STORAGE_ERROR_CHOICES:
            raise ValueError(f"on_error must be one of {ON_STORAGE_ERROR_CHOICES}")
        self.path = path
        self._wall_clock = wall_clock
        self._on_error = on_error
        self._schemas: list[str] = [_SCHEMA]
        self._closed = False
        self._failure: str | None = None
        self._file: Path | None = None if str(path) == MEMORY else Path(path).expanduser()
        self._identity: tuple[int, int] | None = None
        if self._file is not None:
            try:
                self._file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot open storage {str(path)!r}: {exc}",
                    section="runtime",
                    key="storage_path",
                ) from None
        try:
            self._db = self._open(self._file)
        except sqlite3.Error as exc:
            if self._file is None or not _is_failure(exc):
                raise ConfigError(
                    f"cannot open storage {str(path)!r}: {exc}",
                    section="runtime",
                    key="storage_path",
                ) from None
            self._db = self._copy_of_file() or self._open(None)
            self._fail(f"cannot open it: {exc}", source=None)

    # -- public --------------------------------------------------------------------------------

    @property
    def in_memory(self) -> bool:
        """True when nothing written survives a restart (``MEMORY``, or after a failure)."""
        return self._identity is None

    @property
    def failure(self) -> str | None:
        """Why the file stopped being used, or None while it is fine."""
        return self._failure

    def plugin_store(self, plugin: str) -> PluginStore:
        """Return the key-value store private to ``plugin``."""
        return PluginStore(self, plugin)

    def ensure_schema(self, sql: str) -> None:
        """Run ``sql`` (``CREATE TABLE IF NOT EXISTS …`` statements) now and on any fallback.

        For runtime parts that keep their own tables here (an outbox, chat state). The script
        must be idempotent: it runs again on the in-memory copy if the file fails and no copy
        of the file could be taken. Raises :class:`StorageError`.
        """
        self._schemas.append(sql)
        self._guarded(lambda db: db.executescript(sql), write=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement with ``params`` and return all its rows (and the row count).

        Goes through the same guard as the built-in tables: a failing file is handled per
        ``on_error``; a wrong statement raises :class:`StorageError`. A text parameter with
        lone surrogates is stored as bytes (read it back with :func:`as_text`).
        """
        return self._execute(sql, params)

    def close(self) -> None:
        """Close the database; further use raises :class:`StorageError`."""
        if not self._closed:
            self._closed = True
            try:
                self._db.close()
            except sqlite3.Error as exc:  # a failing disk must not fail the shutdown
                logger.warning("closing storage %s: %s", self.path, exc)

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _now(self) -> float:
        return self._wall_clock()

    def __repr__(self) -> str:
        return f"Storage({str(self.path)!r})"

    # -- the one guarded place -------------------------------------------------------------------

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        def run(db: sqlite3.Connection) -> Rows:
            try:
                cursor = db.execute(sql, params)
            except UnicodeEncodeError:
                cursor = db.execute(sql, _escape_params(params))
            return Rows(cursor.fetchall(), cursor.rowcount)

        return self._guarded(run, write=_is_write(sql))

    def _guarded(self, operation: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        if self._closed:
            raise StorageError("storage is closed")
        if self._failure is not None and self._on_error == "stop":
            raise StorageFailed(f"storage {str(self.path)!r} failed: {self._failure}")
        if write and self._identity is not None:
            self._check_file()
        try:
            return operation(self._db)
        except sqlite3.Error as exc:
            if self._identity is None or not _is_failure(exc):
                raise StorageError(f"storage error: {exc}") from None
            self._fail(str(exc), source=self._db)
        try:
            return operation(self._db)
        except sqlite3.Error as exc:
            raise StorageError(f"storage error: {exc}") from None

    # -- opening, losing and finding the file again ----------------------------------------------

    def _open(self, file: Path | None) -> sqlite3.Connection:
        db = sqlite3.connect(
            MEMORY if file is None else str(file), isolation_level=None, check_same_thread=False
        )
        try:
            self._configure(db, file)
            for schema in self._schemas:
                db.executescript(schema)
        except BaseException:
            db.close()
            raise
        if file is not None:
            self._identity = _identity_of(file)
        return db

    @staticmethod
    def _configure(db: sqlite3.Connection, file: Path | None) -> None:
        db.execute("PRAGMA mmap_size=0")
        if file is not None:
            # Before the first access, so the WAL index lives on the heap, not in -shm.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")

    def _check_file(self) -> None:
        """Write the database out again if its file was deleted or replaced."""
        assert self._file is not None
        try:
            current = _identity_of(self._file)
        except FileNotFoundError:
            current = None
        except OSError:
            return  # cannot tell; the write itself will say whether the file works
        if current == self._identity:
            return
        logger.error(
            "storage %s was deleted or replaced while the bot runs; writing it out again",
            self._file,
        )
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            fresh = sqlite3.connect(str(self._file), isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            self._fail(f"deleted, and cannot be written again: {exc}", source=self._db)
            return
        try:
            fresh.execute("PRAGMA mmap_size=0")
            fresh.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.backup(fresh)
            self._configure(fresh, self._file)
            identity = _identity_of(self._file)
        except (sqlite3.Error, OSError) as exc:
            fresh.close()
            self._fail(f"deleted, and cannot be written again: {exc}", source=self._db)
            return
        old, self._db, self._identity = self._db, fresh, identity
        _close_quietly(old)

    def _copy_of_file(self) -> sqlite3.Connection | None:
        """Return an in-memory copy of what the file (and its WAL) holds, or None.

        Read from a copy of the files in a temporary folder: opening the original read-only
        would need a ``-shm`` file beside it, the very thing that cannot be relied on here.
        """
        assert self._file is not None
        try:
            with tempfile.TemporaryDirectory(prefix="agentbot-storage-") as folder:
                copy = Path(folder) / "copy.sqlite3"
                shutil.copyfile(self._file, copy)
                wal = Path(f"{self._file}-wal")
                if wal.exists():
                    shutil.copyfile(wal, f"{copy}-wal")
                source = sqlite3.connect(str(copy))
                try:
                    memory = sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False)
                    source.backup(memory)
                finally:
                    source.close()
        except (sqlite3.Error, OSError) as exc:
            logger.warning("storage %s: could not copy what it held: %s", self.path, exc)
            return None
        return memory

    def _fail(self, reason: str, *, source: sqlite3.Connection | None) -> None:
        """Give the file up: raise :class:`StorageFailed` (stop), or go on in memory."""
        self._failure = reason
        self._identity = None
        if self._on_error == "stop":
            logger.error(
                'storage %s cannot be used (%s); stopping ([runtime] on_storage_error = "stop")',
                self.path,
                reason,
            )
            if source is not None:
                _close_quietly(source)
            raise StorageFailed(f"storage {str(self.path)!r} cannot be used: {reason}")
        logger.error(
            "storage %s cannot be used (%s); going on in memory: answered message ids and "
            "plugin data from now on will not survive a restart",
            self.path,
            reason,
        )
        memory: sqlite3.Connection | None = self._db if source is None else None
        if source is not None:
            memory = _backup_into_memory(source)
            if memory is None and self._file is not None:
                memory = self._copy_of_file()
            if memory is None:
                logger.warning(
                    "storage %s: nothing of it could be copied; going on with the ids this "
                    "run remembers",
                    self.path,
                )
            _close_quietly(source)
            if source is not self._db:
                _close_quietly(self._db)
        if memory is None:
            memory = sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False)
        for schema in self._schemas:  # a copy may lack tables added later
            memory.executescript(schema)
        self._db = memory


def _backup_into_memory(source: sqlite3.Connection) -> sqlite3.Connection | None:
    memory = sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False)
    try:
        source.backup(memory)
    except sqlite3.Error:
        memory.close()
        return None
    return memory


def _is_failure(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _FAILURE_CODES


def _identity_of(file: Path) -> tuple[int, int]:
    stat = os.stat(file)
    return (stat.st_dev, stat.st_ino)


def _close_quietly(db: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        db.close()


class PluginStore:
    """A plugin's private key-value store (implements :class:`KeyValueStore`)."""

    def __init__(self, storage: Storage, plugin: str) -> None:
        self._storage = storage
        self.plugin = plugin

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default``."""
        row = self._storage._execute(
            "SELECT value FROM plugin_kv WHERE plugin = ? AND key = ?", (self.plugin, key)
        ).first()
        return default if row is None else json.loads(as_text(row[0]))

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
        # Keys stored as BLOBs (lone surrogates, see the module docstring) are filtered here.
        rows = self._storage._execute(
            "SELECT key FROM plugin_kv WHERE plugin = ? "
            "AND (substr(key, 1, ?) = ? OR typeof(key) = 'blob') ORDER BY key",
            (self.plugin, len(prefix), prefix),
        ).rows
        keys = (as_text(row[0]) for row in rows)
        return sorted(key for key in keys if key.startswith(prefix))

    def __repr__(self) -> str:
        return f"PluginStore(plugin={self.plugin!r})"
