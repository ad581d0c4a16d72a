"""The bot's durable memory of its chats: chat facts, visitor messages and the outbox.

Why it exists: a customer must never see the bot answer in a chat a human took over before a
restart, lose a reply because the link dropped mid-send, or get the same reply twice. So three
things are written down before they matter, in the bot's storage (SQLite by default):

* **chat state** — each chat's durable facts (:data:`~agentbot.runtime.chat_state.DURABLE_FIELDS`:
  closed, humans present, handed off, paused, greeted, …), written whenever they change and read
  back when the chat's actor is created again after a restart;
* **inbox** — every visitor message the bot took in, with the decision about it (``answered``,
  ``unanswered``, ``dropped``). A message already here is never handled again (the server replays
  recent messages after a reconnect); one without a decision was being handled when the process
  died, and is handled again at the next login if still relevant. It is the one record of
  answered ids (it replaced the store's global ``seen_message`` table, now dropped);
* **outbox** — every message the bot chose to send, recorded *before* it is sent
  (``planned``), marked ``sending`` with the attempt's time just before the request leaves, and
  ``sent`` only when the server acknowledged it (socket ack or REST response). An entry left
  ``sending`` (the process died, or the link dropped before the ack) is checked against the
  server (``Outbound.find_sent``) before it is sent again: confirmed or resent, never both.

Rows are keyed by a **namespace** (the agent and a digest of the server URL and account key),
so two bots, or one bot against two sandboxes, never share answers. The account key itself is
never stored. Closed chats and old rows expire (:meth:`Ledger.expire`, at every start and daily:
``[runtime] chat_state_retention_days`` for closed chats, ``seen_retention_days`` for the
inbox, settled outbox entries and idle chats).

The SQL is the common subset of SQLite and PostgreSQL (``?`` placeholders, ``ON CONFLICT``), run
through the store's one guarded ``execute``.

Durable before a send, on either store: ``execute`` returns only once its statement is
committed. SQLite commits each statement; :class:`~agentbot.runtime.pg_storage.PgStorage`
(``[runtime] storage_url``) first waits for its write-behind queue (plugin rows) and then
commits the statement on its own connection. So ``plan`` and ``attempt`` are on the server
before the message leaves, and a replica taking over after a crash sees the entry as
``sending`` and confirms it with the server rather than sending it again. The price is one
blocking round trip per ledger write on the event loop (~0.2 ms on loopback), which keeps
the ledger's API synchronous (its callers are the chat actors and the dispatch path); the
plugin store stays write-behind because plugins write far more often and need no barrier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from agentbot.runtime.chat_state import ChatState
from agentbot.runtime.storage import as_text

__all__ = [
    "LEDGER_SCHEMA",
    "Ledger",
    "LedgerStore",
    "OutboxEntry",
    "Received",
    "StoreRows",
    "namespace_for",
]

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_state (
    namespace TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    data TEXT NOT NULL,
    closed INTEGER NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace, chat_id)
);
CREATE TABLE IF NOT EXISTS inbox (
    namespace TEXT NOT NULL,
    message_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    text TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    outcome TEXT,
    PRIMARY KEY (namespace, message_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    namespace TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    visitor_id TEXT,
    text TEXT NOT NULL,
    answers TEXT,
    part INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    attempted_at DOUBLE PRECISION,
    server_id TEXT,
    PRIMARY KEY (namespace, entry_id)
);
"""
"""The ledger's tables; created at start through the store's ``ensure_schema``."""


class LedgerStore(Protocol):
    """What the ledger needs from a store (:class:`agentbot.runtime.storage.Storage`)."""

    def ensure_schema(self, sql: str) -> None:
        """Create the tables of ``sql`` if they are missing."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> StoreRows:
        """Run one statement; return its rows (raises ``StorageError``)."""
        ...


class StoreRows(Protocol):
    """The rows a statement returned (:class:`agentbot.runtime.storage.Rows`)."""

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        """Every row fetched."""
        ...


def namespace_for(url: str, agent_id: str, key: str) -> str:
    """Return the namespace of one bot on one account: agent id + a digest (no secret kept)."""
    digest = hashlib.sha256(f"{url}\n{key}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{agent_id}@{digest[:16]}"


@attrs.frozen(kw_only=True)
class Received:
    """A visitor message the bot took in but never decided about (the process died)."""

    message_id: str
    chat_id: str
    text: str
    received_at: float


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """One message the bot chose to send (one part of a reply, or a ``bot.say``)."""

    entry_id: str
    chat_id: str
    visitor_id: str | None
    text: str
    answers: str | None = None
    """The visitor message this answers (None for a ``bot.say``)."""
    part: int = 0
    state: str = "planned"
    created_at: float = 0.0
    attempted_at: float | None = None


class Ledger:
    """The durable chat memory of one bot (one namespace) in ``store``."""

    def __init__(
        self, store: LedgerStore, namespace: str, *, wall_clock: Callable[[], float]
    ) -> None:
        self.namespace = namespace
        self._store = store
        self._now = wall_clock
        store.ensure_schema(LEDGER_SCHEMA)

    def __repr__(self) -> str:
        return f"Ledger({self.namespace!r} in {self._store!r})"

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._store.execute(sql, (self.namespace, *params)).rows

    # -- chat state --------------------------------------------------------------------------

    def load_chat(self, chat_id: str) -> ChatState | None:
        """Return the stored state of ``chat_id``, or None if there is none."""
        rows = self._rows(
            "SELECT data FROM chat_state WHERE namespace = ? AND chat_id = ?", chat_id
        )
        if not rows:
            return None
        try:
            record = json.loads(as_text(rows[0][0]))
        except (TypeError, ValueError):
            return None
        return ChatState.from_record(chat_id, record) if isinstance(record, dict) else None

    def save_chat(self, state: ChatState) -> None:
        """Store ``state``'s durable facts."""
        data = json.dumps(state.to_record(), separators=(",", ":"))
        self._rows(
            "INSERT INTO chat_state (namespace, chat_id, data, closed, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, chat_id) DO UPDATE SET "
            "data = excluded.data, closed = excluded.closed, updated_at = excluded.updated_at",
            state.chat_id,
            data,
            int(state.closed),
            self._now(),
        )

    def known_open_chats(self) -> list[str]:
        """Return the ids of chats stored as open (for the resync at login)."""
        rows = self._rows(
            "SELECT chat_id FROM chat_state WHERE namespace = ? AND closed = 0 ORDER BY updated_at"
        )
        return [as_text(row[0]) for row in rows]

    # -- inbox -------------------------------------------------------------------------------

    def receive(self, message_id: str, chat_id: str, text: str) -> bool:
        """Record a visitor message; return False if it was taken in before (do not answer)."""
        rows = self._rows(
            "INSERT INTO inbox (namespace, message_id, chat_id, text, received_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, message_id) DO NOTHING "
            "RETURNING message_id",
            message_id,
            chat_id,
            text,
            self._now(),
        )
        return bool(rows)

    def seen(self, message_id: str) -> bool:
        """Return whether ``message_id`` was taken in before."""
        rows = self._rows("SELECT 1 FROM inbox WHERE namespace = ? AND message_id = ?", message_id)
        return bool(rows)

    def decide(self, message_id: str, outcome: str) -> None:
        """Record what became of a visitor message: answered, unanswered or dropped."""
        self._store.execute(
            "UPDATE inbox SET outcome = ? WHERE namespace = ? AND message_id = ?",
            (outcome, self.namespace, message_id),
        )

    def undecided(self) -> list[Received]:
        """Return the visitor messages taken in but never decided about, oldest first."""
        rows = self._rows(
            "SELECT message_id, chat_id, text, received_at FROM inbox "
            "WHERE namespace = ? AND outcome IS NULL ORDER BY received_at"
        )
        return [
            Received(
                message_id=as_text(r[0]),
                chat_id=as_text(r[1]),
                text=as_text(r[2]),
                received_at=float(r[3]),
            )
            for r in rows
        ]

    # -- outbox ------------------------------------------------------------------------------

    def plan(self, entries: Sequence[OutboxEntry]) -> None:
        """Record messages about to be sent (before anything leaves)."""
        now = self._now()
        for entry in entries:
            self._rows(
                "INSERT INTO outbox (namespace, entry_id, chat_id, visitor_id, text, answers, "
                "part, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?) "
                "ON CONFLICT (namespace, entry_id) DO NOTHING",
                entry.entry_id,
                entry.chat_id,
                entry.visitor_id,
                entry.text,
                entry.answers,
                entry.part,
                now,
            )

    def attempt(self, entry_id: str) -> float:
        """Mark an entry ``sending`` just before its request leaves; return the time."""
        now = self._now()
        self._set_state(entry_id, "sending", attempted_at=now)
        return now

    def sent(self, entry_id: str, server_id: str | None) -> None:
        """Mark an entry ``sent``: the server acknowledged it."""
        self._set_state(entry_id, "sent", server_id=server_id)

    def drop(self, entry_id: str) -> None:
        """Mark an entry ``dropped``: it will not be sent (it became wrong while waiting)."""
        self._set_state(entry_id, "dropped")

    def _set_state(self, entry_id: str, state: str, **values: Any) -> None:
        columns = "".join(f", {name} = ?" for name in values)
        self._store.execute(
            f"UPDATE outbox SET state = ?{columns} WHERE namespace = ? AND entry_id = ?",
            (state, *values.values(), self.namespace, entry_id),
        )

    def unsettled(self, chat_id: str | None = None) -> list[OutboxEntry]:
        """Return entries planned or sending (not yet sent nor dropped), in send order."""
        sql = (
            "SELECT entry_id, chat_id, visitor_id, text, answers, part, state, created_at, "
            "attempted_at FROM outbox WHERE namespace = ? AND state IN ('planned', 'sending')"
        )
        params: tuple[Any, ...] = ()
        if chat_id is not None:
            sql += " AND chat_id = ?"
            params = (chat_id,)
        rows = self._rows(sql + " ORDER BY created_at, part", *params)
        return [
            OutboxEntry(
                entry_id=as_text(r[0]),
                chat_id=as_text(r[1]),
                visitor_id=as_text(r[2]),
                text=as_text(r[3]),
                answers=as_text(r[4]),
                part=int(r[5]),
                state=r[6],
                created_at=float(r[7]),
                attempted_at=None if r[8] is None else float(r[8]),
            )
            for r in rows
        ]

    def depth(self) -> int:
        """How many entries wait to be sent or confirmed (a metric: outbox depth)."""
        rows = self._rows(
            "SELECT COUNT(*) FROM outbox WHERE namespace = ? AND state IN ('planned', 'sending')"
        )
        return int(rows[0][0]) if rows else 0

    # -- retention ---------------------------------------------------------------------------

    def expire(self, *, closed_after_seconds: float, idle_after_seconds: float) -> int:
        """Forget closed chats and settled rows past their retention; return rows removed."""
        now = self._now()
        removed = 0
        for sql, params in (
            (
                "DELETE FROM chat_state WHERE namespace = ? AND "
                "((closed = 1 AND updated_at < ?) OR updated_at < ?) RETURNING chat_id",
                (now - closed_after_seconds, now - idle_after_seconds),
            ),
            (
                "DELETE FROM inbox WHERE namespace = ? AND received_at < ? RETURNING message_id",
                (now - idle_after_seconds,),
            ),
            (
                "DELETE FROM outbox WHERE namespace = ? AND created_at < ? "
                "AND state IN ('sent', 'dropped') RETURNING entry_id",
                (now - idle_after_seconds,),
            ),
        ):
            removed += len(self._rows(sql, *params))
        return removed
