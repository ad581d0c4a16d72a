"""A person's data out of every store: what ``agentbot data erase`` does.

What the bot stores about people, and where (docs/operations.md has the full table):

* the ledger (runtime tables ``inbox``, ``outbox``, ``chat_state`` in the bot's SQLite file):
  visitor messages taken in, replies planned or sent (with the visitor id), chat facts;
* plugin storage (table ``plugin_kv``): leads and hand-off notes (``outbox:<id>`` records of
  after_hours and handoff, with e-mail, name and transcript), FAQ gaps and feedback (masked
  question texts with the chat id), the greeter's ``visitor:<id>`` marks;
* whatever a plugin keeps elsewhere — it takes part through the ``on_erase`` hook.

:func:`erase_person` removes, for a visitor id and/or an e-mail address: every ledger row of
the chats that visitor (or a message naming that address) was in, and every plugin storage
entry whose key or JSON value names the visitor id, the e-mail address (case-insensitive) or
one of those chats. It reports counts per store. It opens the storage file itself, so the bot
must be stopped (SQLite's exclusive lock says so otherwise).

Retention (how long each kind is kept) is :mod:`agentbot.runtime.retention`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agentbot.runtime.config import BotConfig
from agentbot.runtime.storage import Storage, as_text

__all__ = [
    "erase_for_config",
    "erase_person",
    "format_report",
]

logger = logging.getLogger(__name__)


def _ledger_chats(storage: Storage, visitor_id: str | None, email: str | None) -> set[str]:
    chats: set[str] = set()
    if visitor_id:
        for sql in (
            "SELECT DISTINCT chat_id FROM outbox WHERE visitor_id = ?",
            "SELECT DISTINCT chat_id FROM chat_state WHERE instr(data, ?) > 0",
        ):
            chats.update(as_text(row[0]) for row in storage.execute(sql, (visitor_id,)).rows)
    if email:
        for sql in (
            "SELECT DISTINCT chat_id FROM inbox WHERE instr(lower(text), ?) > 0",
            "SELECT DISTINCT chat_id FROM outbox WHERE instr(lower(text), ?) > 0",
        ):
            chats.update(as_text(row[0]) for row in storage.execute(sql, (email.lower(),)).rows)
    return chats


def _has_ledger(storage: Storage) -> bool:
    rows = storage.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'inbox'"
    ).rows
    return bool(rows and rows[0][0])


def _names(value: Any, needles: Callable[[str], bool]) -> bool:
    if isinstance(value, str):
        return needles(value)
    if isinstance(value, dict):
        return any(_names(k, needles) or _names(v, needles) for k, v in value.items())
    if isinstance(value, list):
        return any(_names(item, needles) for item in value)
    return False


def erase_person(
    storage: Storage,
    *,
    visitor_id: str | None,
    email: str | None,
    plugin_counts: Iterable[tuple[str, int]] = (),
) -> dict[str, int]:
    """Remove what ``storage`` holds about the visitor and/or the address; count per store.

    ``plugin_counts`` adds what plugins removed themselves (``on_erase`` results). Returns
    ``{"ledger inbox": n, "ledger outbox": n, "ledger chat_state": n, "plugin NAME": n, …}``.
    """
    if not visitor_id and not email:
        raise ValueError("give a visitor id or an e-mail address")
    report: dict[str, int] = {}
    chats = _ledger_chats(storage, visitor_id, email) if _has_ledger(storage) else set()
    for table in ("inbox", "outbox", "chat_state"):
        removed = 0
        for chat_id in sorted(chats):
            deleted = storage.execute(
                f"DELETE FROM {table} WHERE chat_id = ? RETURNING 1",
                (chat_id,),
            )
            removed += len(deleted.rows)
        report[f"ledger {table}"] = removed
    address = email.lower() if email else None

    def names_person(text: str) -> bool:
        if visitor_id and (text == visitor_id or text.endswith(f":{visitor_id}")):
            return True
        if address and address in text.lower():
            return True
        return text in chats

    rows = storage.execute("SELECT plugin, key, value FROM plugin_kv").rows
    for plugin_raw, key_raw, value_raw in rows:
        plugin, key = as_text(plugin_raw), as_text(key_raw)
        try:
            value = json.loads(as_text(value_raw))
        except ValueError:
            value = None
        if names_person(key) or _names(value, names_person):
            storage.plugin_store(plugin).delete(key)
            report[f"plugin {plugin}"] = report.get(f"plugin {plugin}", 0) + 1
    for plugin, count in plugin_counts:
        report[f"plugin {plugin}"] = report.get(f"plugin {plugin}", 0) + count
    return report


def format_report(report: dict[str, int]) -> list[str]:
    """Lines for the person running the command: one per store, then the total."""
    lines = [f"  {store}: {count}" for store, count in sorted(report.items())]
    lines.append(f"  total: {sum(report.values())}")
    return lines


async def erase_for_config(
    config: BotConfig,
    *,
    visitor_id: str | None,
    email: str | None,
    plugins: Sequence[tuple[str, object]] = (),
    entry_points: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Erase the person from the bot's storage file and let its plugins do their part.

    Opens ``[runtime] storage_path`` (raises :class:`~agentbot.runtime.storage.StorageError`
    while the bot runs: the file is locked), loads the plugins, deletes the storage rows
    (:func:`erase_person`), then calls every plugin's ``on_erase``. ``plugins`` and
    ``entry_points`` are the :class:`~agentbot.runtime.bot.Bot`'s (tests hand them in).
    """
    from agentbot.runtime.bot import Bot

    with Storage(config.resolved_storage_path(), on_error="stop") as storage:
        bot = Bot(config, storage=storage, plugins=plugins, entry_points=entry_points)
        bot.prepare()
        results = await bot.host.call(
            "on_erase", bot.handle_for, visitor_id=visitor_id, email=email
        )
        counts = [(r.plugin.name, int(r.value)) for r in results if isinstance(r.value, int)]
        return erase_person(storage, visitor_id=visitor_id, email=email, plugin_counts=counts)
