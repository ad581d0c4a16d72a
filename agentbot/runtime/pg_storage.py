"""Durable state on PostgreSQL, for bots whose replicas run on more than one machine.

Selected by ``[runtime] storage_url = "postgresql://…"`` (SQLite stays the embedded
default). It offers what :class:`~agentbot.runtime.storage.Storage` offers — each plugin's
key-value store, ``ensure_schema`` / ``execute`` (the ledger's tables) — keyed by a
*namespace* (one per bot, the ledger's: :func:`agentbot.runtime.wiring.bot_namespace`), so
many bots share one database and never see each other's rows.

Why an in-memory, write-behind cache. The plugin store API is synchronous
(``bot.storage.get(key)`` in plugin code, no ``await``), and a PostgreSQL round trip is
~150 µs on loopback and milliseconds across a network: done on the event loop thread it
would stall every chat of the bot; done through a thread hop per call it doubles the cost
(``benchmarks/pg_driver.py``). So, at open, the namespace's rows are loaded into memory;
reads are dict look-ups; every write updates memory at once and is queued to a writer
thread that owns its own connection and flushes the queue in order, many writes per
transaction. :meth:`PgStorage.flush` (blocking) and :meth:`PgStorage.wait_flushed` (async,
any loop) are the durability barrier: return once everything written so far is committed.
:meth:`PgStorage.execute` — the ledger's path (inbox, outbox, chat facts) — passes that
barrier first and then commits its own statement before it returns, so every ledger write
that precedes a send (``plan``, ``attempt``) is durable, together with every plugin write
made before it, by the time the message can leave.

This is correct because of the lease (:mod:`agentbot.runtime.lease`): one replica per bot is
active, so the active replica's memory is the truth for its namespace; a replica that takes
over opens the store after it holds the lease and loads what the previous one committed.
The one exception is work shared between replicas on purpose (leads): :meth:`PgPluginStore.
claim_due` goes to the database with ``SELECT … FOR UPDATE SKIP LOCKED``.

The schema is versioned: ``agentbot_schema_version`` holds the applied step numbers, and
:data:`MIGRATIONS` (ordered SQL steps, append only) are applied at open under a
transaction-scoped advisory lock, so replicas starting together migrate once.

The connection URL may carry a password: it never appears in a repr, a log line or an
error (:func:`describe_url` keeps host, port and database only).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio.to_thread
import psycopg
import psycopg.conninfo

from agentbot.errors import ConfigError
from agentbot.runtime.storage import PluginStore, Rows, Storage, StorageError

__all__ = [
    "MIGRATIONS",
    "PgPluginStore",
    "PgStorage",
    "apply_migrations",
    "describe_url",
    "is_postgres_url",
]

logger = logging.getLogger(__name__)

#: Ordered schema steps; step N is applied once, after steps 1..N-1. Never edit a released
#: step: append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: plugin key-value rows, answered message ids, the lease row of each bot
    """
    CREATE TABLE agentbot_plugin_kv (
        namespace TEXT NOT NULL,
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        value JSONB NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (namespace, plugin, key)
    );
    CREATE TABLE agentbot_seen_message (
        namespace TEXT NOT NULL,
        message_id TEXT NOT NULL,
        seen_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (namespace, message_id)
    );
    CREATE INDEX agentbot_seen_message_age ON agentbot_seen_message (namespace, seen_at);
    CREATE TABLE agentbot_lease (
        namespace TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        generation BIGINT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: the ledger's inbox (namespaced, with outcomes) now holds the answered message ids
    """
    DROP TABLE IF EXISTS agentbot_seen_message;
    """,
)

# Any constant will do: it only has to be the same for every replica.
_MIGRATION_LOCK = 0x61_67_65_6E_74_62_6F_74  # "agentbot"

_BATCH_MAX = 500
_REAL_TYPE = re.compile(r"\bREAL\b(?=\s*(?:NOT\b|NULL\b|DEFAULT\b|PRIMARY\b|,|\)|$))", re.I | re.M)
_RETRY_INITIAL_SECONDS = 0.5
_RETRY_MAX_SECONDS = 10.0


def apply_migrations(db: psycopg.Connection[Any], *, where: str) -> int:
    """Bring the schema up to :data:`MIGRATIONS` (idempotent, safe to race); return its version.

    Runs in one transaction under an advisory lock, so replicas starting together migrate
    once and a failed step leaves the schema as it was. Raises :class:`ConfigError` when the
    database is newer than this agentbot.
    """
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        db.execute(
            "CREATE TABLE IF NOT EXISTS agentbot_schema_version ("
            " version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = db.execute("SELECT coalesce(max(version), 0) FROM agentbot_schema_version").fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise ConfigError(
                f"storage {where} has schema version {current}, newer than this agentbot "
                f"knows ({len(MIGRATIONS)}): upgrade agentbot",
                section="runtime",
                key="storage_url",
            )
        for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
            db.execute(step.encode())
            db.execute("INSERT INTO agentbot_schema_version (version) VALUES (%s)", (version,))
            logger.info("storage: applied schema migration %d", version)
    return max(current, len(MIGRATIONS))


def is_postgres_url(url: str) -> bool:
    """Return True for a ``postgresql://`` / ``postgres://`` URL."""
    return url.startswith(("postgresql://", "postgres://"))


def describe_url(url: str) -> str:
    """Return ``host:port/dbname`` of a libpq URL, without user or password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable PostgreSQL URL>"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or ''}"


def _qmarks_to_pyformat(sql: str) -> str:
    """Turn SQLite-style ``?`` placeholders (outside quotes) into psycopg's ``%s``."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


class PgStorage(Storage):
    """Every plugin's store and the ledger's tables of one bot (``namespace``) in PostgreSQL.

    Opening connects, migrates, loads the namespace into memory and starts the writer
    thread; :meth:`close` flushes and stops it. Raises :class:`ConfigError` when the server
    cannot be reached or the URL is wrong. It subclasses :class:`Storage` only so it stands
    wherever the runtime expects the SQLite store; it shares none of its code.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        wall_clock: Callable[[], float] = time.time,
        connect_timeout_seconds: float = 10.0,
    ) -> None:
        # Storage.__init__ is deliberately not called: it opens SQLite.
        self.path = describe_url(url)
        self.namespace = namespace
        self._url = url
        self._wall_clock = wall_clock
        self._connect_timeout = connect_timeout_seconds
        self._closed = False
        self._kv: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # the direct connection (execute, claims, prune)
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
        self._pending = 0
        self._pending_changed = threading.Condition()
        self.write_errors = 0
        """Failed flush attempts and dropped statements so far: a health signal."""
        self._failure: str | None = None
        self._direct = self._connect()
        try:
            self._migrate()
            self._load()
        except psycopg.Error as exc:
            self._direct.close()
            raise ConfigError(
                f"cannot prepare storage postgresql://{self.path}: {_reason(exc)}",
                section="runtime",
                key="storage_url",
            ) from None
        except BaseException:
            self._direct.close()
            raise
        self._writer = threading.Thread(
            target=self._write_loop, name=f"agentbot-pg-writer[{namespace}]", daemon=True
        )
        self._writer.start()

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            return psycopg.connect(
                self._url, autocommit=True, connect_timeout=max(1, int(self._connect_timeout))
            )
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot open storage postgresql://{self.path}: {_reason(exc)}",
                section="runtime",
                key="storage_url",
            ) from None

    def _migrate(self) -> None:
        apply_migrations(self._direct, where=f"postgresql://{self.path}")

    def _load(self) -> None:
        rows = self._direct.execute(
            "SELECT plugin, key, value FROM agentbot_plugin_kv WHERE namespace = %s",
            (self.namespace,),
        ).fetchall()
        self._kv = {(plugin, key): value for plugin, key, value in rows}

    @property
    def schema_version(self) -> int:
        """Return the highest applied migration step."""
        row = self._call(lambda db: db.execute("SELECT max(version) FROM agentbot_schema_version"))
        return int(row.fetchone()[0])

    # -- the write-behind queue --------------------------------------------------------------

    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        if self._closed:
            raise StorageError("storage is closed")
        with self._pending_changed:
            self._pending += 1
        self._queue.put((sql, tuple(_pg_param(p) for p in params)))

    def _write_loop(self) -> None:
        """Flush queued writes in order, many per transaction, until ``None`` arrives."""
        db: psycopg.Connection[tuple[Any, ...]] | None = None
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < _BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            delay = _RETRY_INITIAL_SECONDS
            while True:
                try:
                    if db is None or db.closed:
                        db = psycopg.connect(self._url, autocommit=True)
                    self._write_batch(db, batch)
                    self._failure = None
                    break
                except psycopg.OperationalError as exc:
                    # The server is away: keep the batch (upserts and deletes, so a retry
                    # is safe) and try again, backing off.
                    self.write_errors += 1
                    self._failure = f"cannot write to postgresql://{self.path}: {_reason(exc)}"
                    logger.warning(
                        "storage: flushing %d write(s) failed (%s); retrying in %.1f s",
                        len(batch),
                        _reason(exc),
                        delay,
                    )
                    if db is not None:
                        db.close()
                        db = None
                    # A real wait on the writer thread: the server is away, not a test clock.
                    time.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX_SECONDS)
            with self._pending_changed:
                self._pending -= len(batch)
                self._pending_changed.notify_all()
        if db is not None:
            db.close()

    def _write_batch(
        self, db: psycopg.Connection[tuple[Any, ...]], batch: list[tuple[str, tuple[Any, ...]]]
    ) -> None:
        """Commit ``batch`` in one transaction; a statement the server rejects is dropped.

        A rejected statement (not a lost connection) would be rejected again on every retry,
        so the batch is replayed one statement at a time and the bad one is logged, counted
        and skipped: one bad value must not stop every later write.
        """
        try:
            with db.transaction(), db.cursor() as cursor:
                for sql, params in batch:
                    cursor.execute(sql, params)
            return
        except psycopg.OperationalError:
            raise
        except psycopg.Error:
            pass
        for sql, params in batch:
            try:
                db.execute(sql, params)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                self.write_errors += 1
                logger.error("storage: dropped a write the server rejected: %s", _reason(exc))

    @property
    def pending_writes(self) -> int:
        """Return how many writes are queued and not committed yet."""
        return self._pending

    def flush(self, *, timeout_seconds: float | None = None) -> bool:
        """Block until every write made so far is committed; False if ``timeout`` passed."""
        with self._pending_changed:
            return self._pending_changed.wait_for(lambda: self._pending == 0, timeout_seconds)

    async def wait_flushed(self) -> None:
        """Wait (on any event loop) until every write made so far is committed."""
        if self._pending:
            await anyio.to_thread.run_sync(self.flush, abandon_on_cancel=True)

    # -- the direct connection ---------------------------------------------------------------

    def _call(self, fn: Callable[[psycopg.Connection[tuple[Any, ...]]], Any]) -> Any:
        if self._closed:
            raise StorageError("storage is closed")
        with self._lock:
            try:
                return fn(self._direct)
            except psycopg.Error as exc:
                raise StorageError(f"storage error: {_reason(exc)}") from None

    def ensure_schema(self, sql: str) -> None:
        """Run idempotent DDL (``CREATE TABLE IF NOT EXISTS …``) once, in one transaction.

        DDL written for SQLite and PostgreSQL alike has one trap: a ``REAL`` column is an
        8-byte float in SQLite but a 4-byte one in PostgreSQL, which rounds an epoch
        timestamp to about a minute. Column types spelled ``REAL`` become ``DOUBLE
        PRECISION`` here, so both stores keep what SQLite would.
        """
        script = _REAL_TYPE.sub("DOUBLE PRECISION", sql)

        def run(db: psycopg.Connection[tuple[Any, ...]]) -> None:
            with db.transaction():
                db.execute(script.encode())  # bytes: no placeholder parsing in DDL

        self._call(run)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement on the database now (after the queued writes) and return rows.

        ``?`` placeholders (SQLite style) are accepted as well as ``%s``. This is the slow
        path: a blocking round trip on the caller's thread.
        """
        self.flush()
        statement = _qmarks_to_pyformat(sql) if "?" in sql else sql

        def run(db: psycopg.Connection[tuple[Any, ...]]) -> Rows:
            cursor = db.execute(statement.encode(), tuple(_pg_param(p) for p in params))
            rows = list(cursor.fetchall()) if cursor.description is not None else []
            return Rows(rows, cursor.rowcount)

        result: Rows = self._call(run)
        return result

    # -- the Storage interface ---------------------------------------------------------------

    @property
    def in_memory(self) -> bool:
        """False: what is written survives a restart (once flushed)."""
        return False

    @property
    def failure(self) -> str | None:
        """Why writes are failing right now, or None while they go through."""
        return self._failure

    def plugin_store(self, plugin: str) -> PgPluginStore:
        """Return the key-value store private to ``plugin``."""
        return PgPluginStore(self, plugin)

    def close(self) -> None:
        """Flush the queued writes, stop the writer and close; further use raises."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._writer.join()
        self._direct.close()

    def __enter__(self) -> PgStorage:
        return self

    def __repr__(self) -> str:
        return f"PgStorage({self.path!r}, namespace={self.namespace!r})"


class PgPluginStore(PluginStore):
    """A plugin's key-value store in PostgreSQL: reads from memory, writes queued."""

    _storage: PgStorage

    def __init__(self, storage: PgStorage, plugin: str) -> None:
        super().__init__(storage, plugin)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default``."""
        value = self._storage._kv.get((self.plugin, key), _MISSING)
        # Hand out a copy, as SQLite's json.loads does: mutating it must not change the store.
        return default if value is _MISSING else json.loads(json.dumps(value))

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``; :class:`StorageError` if it is not JSON-serializable."""
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"cannot store {key!r} for {self.plugin!r}: {exc}") from None
        storage = self._storage
        storage._enqueue(
            "INSERT INTO agentbot_plugin_kv (namespace, plugin, key, value, updated_at) "
            "VALUES (%s, %s, %s, %s::jsonb, %s) ON CONFLICT (namespace, plugin, key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (storage.namespace, self.plugin, key, encoded, storage._now()),
        )
        storage._kv[(self.plugin, key)] = json.loads(encoded)

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is absent."""
        storage = self._storage
        if storage._kv.pop((self.plugin, key), _MISSING) is _MISSING:
            return
        storage._enqueue(
            "DELETE FROM agentbot_plugin_kv WHERE namespace = %s AND plugin = %s AND key = %s",
            (storage.namespace, self.plugin, key),
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Return this plugin's keys starting with ``prefix``, sorted (by code point)."""
        return sorted(
            key
            for plugin, key in self._storage._kv
            if plugin == self.plugin and key.startswith(prefix)
        )

    def claim_due(
        self, prefix: str, *, now: float, claim_seconds: float, limit: int = 50
    ) -> list[tuple[str, Any]]:
        """Claim records under ``prefix`` due at ``now``, for ``claim_seconds``; return them.

        For work any replica may do (lead deliveries): a record is due when its JSON has no
        ``delivered_at`` and its ``next_attempt_at`` is at most ``now``. Claimed rows are
        locked with ``FOR UPDATE SKIP LOCKED`` — two replicas claiming at once get disjoint
        sets — and their ``next_attempt_at`` moves to ``now + claim_seconds``, so nobody
        else takes them until then; the caller writes the outcome back with :meth:`set`.
        Memory then holds the database's view of every record under ``prefix``, so
        :meth:`get` and :meth:`keys` see what the other replicas did with them.
        """
        storage = self._storage
        storage.flush()

        def run(db: psycopg.Connection[tuple[Any, ...]]) -> tuple[list[tuple[str, Any]], Any]:
            with db.transaction():
                rows = db.execute(
                    "SELECT key, value FROM agentbot_plugin_kv"
                    " WHERE namespace = %s AND plugin = %s AND starts_with(key, %s)"
                    " AND (value->>'delivered_at') IS NULL"
                    " AND coalesce((value->>'next_attempt_at')::double precision, 0) <= %s"
                    " ORDER BY key LIMIT %s FOR UPDATE SKIP LOCKED",
                    (storage.namespace, self.plugin, prefix, now, limit),
                ).fetchall()
                claimed = []
                for key, value in rows:
                    value["next_attempt_at"] = now + claim_seconds
                    db.execute(
                        "UPDATE agentbot_plugin_kv SET value = %s::jsonb, updated_at = %s"
                        " WHERE namespace = %s AND plugin = %s AND key = %s",
                        (json.dumps(value), storage._now(), storage.namespace, self.plugin, key),
                    )
                    claimed.append((str(key), value))
                current = db.execute(
                    "SELECT key, value FROM agentbot_plugin_kv"
                    " WHERE namespace = %s AND plugin = %s AND starts_with(key, %s)",
                    (storage.namespace, self.plugin, prefix),
                ).fetchall()
                return claimed, current

        claimed: list[tuple[str, Any]]
        claimed, current = storage._call(run)
        # The records under ``prefix`` are shared work: other replicas change them, so memory
        # takes the database's view of them (as of this claim) rather than only its own.
        kv = storage._kv
        for stale in [k for k in kv if k[0] == self.plugin and k[1].startswith(prefix)]:
            del kv[stale]
        for key, value in current:
            kv[(self.plugin, str(key))] = value
        return claimed

    def __repr__(self) -> str:
        return f"PgPluginStore(plugin={self.plugin!r})"


_MISSING: Any = object()


def _pg_param(value: Any) -> Any:
    """Make text PostgreSQL can hold: lone surrogates (valid in JSON from the wire, not in
    UTF-8) become their backslash escapes, so ids stay distinct and a write never fails."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _reason(exc: psycopg.Error) -> str:
    """Return the server's or libpq's message, first line, cut short (no URL in it)."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text[:200]
