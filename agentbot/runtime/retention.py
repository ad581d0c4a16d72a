"""Retention: leads, hand-off notes and stored questions are forgotten after a while.

``[runtime]`` ``lead_retention_days``, ``handoff_note_retention_days`` and
``question_retention_days`` (answered ids and the outbox: ``seen_retention_days``, in the
ledger). Delivered leads and notes (``outbox:`` records of after_hours and handoff) are
dropped that long after delivery; pending ones never, since they have not reached the
webhook yet. FAQ gaps and feedback go that long after they were written. Runs when the bot
opens its storage (every start) and then daily while it runs (:func:`prune_daily`, on the
bot's clock), on SQLite and on the PostgreSQL store (``storage_url``: only this bot's
namespace) alike.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from agentbot.errors import AgentbotError
from agentbot.runtime.config import BotConfig
from agentbot.runtime.storage import Storage, as_text

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot

__all__ = [
    "LEAD_PLUGINS",
    "NOTE_PLUGINS",
    "PRUNE_INTERVAL_SECONDS",
    "QUESTION_PREFIXES",
    "prune_daily",
    "prune_retention",
]

logger = logging.getLogger(__name__)

_DAY_SECONDS = 86400.0

LEAD_PLUGINS = ("after_hours",)
"""Plugins whose ``outbox:`` records are leads."""
NOTE_PLUGINS = ("handoff",)
"""Plugins whose ``outbox:`` records are hand-off notes."""
QUESTION_PREFIXES = ("gap:", "feedback-case:")
"""Plugin storage keys holding visitors' questions (faq gaps and feedback)."""
_OUTBOX_PREFIX = "outbox:"

PRUNE_INTERVAL_SECONDS = _DAY_SECONDS
"""How often a running bot prunes again (a bot runs for months between restarts)."""


def prune_retention(storage: Storage, config: BotConfig, *, now: float) -> dict[str, int]:
    """Forget delivered leads and notes, and stored questions, past their retention.

    Returns counts per kind.
    """
    runtime = config.runtime
    report = {"leads": 0, "handoff notes": 0, "questions": 0}
    for plugin_raw, key_raw, value_raw, updated_at in _plugin_rows(storage):
        plugin, key = as_text(plugin_raw), as_text(key_raw)
        kind: str | None = None
        days = 0.0
        if key.startswith(_OUTBOX_PREFIX) and plugin in LEAD_PLUGINS + NOTE_PLUGINS:
            try:
                record = _decoded(value_raw)
            except ValueError:
                continue
            delivered = record.get("delivered_at") if isinstance(record, dict) else None
            if delivered is None:
                continue  # pending: never dropped before it reached the webhook
            kind = "leads" if plugin in LEAD_PLUGINS else "handoff notes"
            days = (
                runtime.lead_retention_days
                if plugin in LEAD_PLUGINS
                else runtime.handoff_note_retention_days
            )
            stamp = float(delivered)
        elif key.startswith(QUESTION_PREFIXES):
            kind, days, stamp = "questions", runtime.question_retention_days, float(updated_at)
        if kind is None or stamp >= now - days * _DAY_SECONDS:
            continue
        storage.plugin_store(plugin).delete(key)
        report[kind] += 1
    return report


def _plugin_rows(storage: Storage) -> list[tuple[Any, ...]]:
    """Every plugin row of ``storage``: SQLite's ``plugin_kv``, or this bot's PostgreSQL rows."""
    from agentbot.runtime.pg_storage import PgStorage

    if isinstance(storage, PgStorage):
        sql = "SELECT plugin, key, value, updated_at FROM agentbot_plugin_kv WHERE namespace = ?"
        return list(storage.execute(sql, (storage.namespace,)).rows)
    return list(storage.execute("SELECT plugin, key, value, updated_at FROM plugin_kv").rows)


def _decoded(value: Any) -> Any:
    """A stored value: JSON text in SQLite, already decoded from PostgreSQL's JSONB."""
    if isinstance(value, str | bytes | memoryview):
        return json.loads(as_text(value))
    return value


async def prune_daily(bot: Bot, *, interval_seconds: float = PRUNE_INTERVAL_SECONDS) -> None:
    """Prune ``bot``'s store every ``interval_seconds`` on its clock, until cancelled.

    The start-up pruning (``open_ledger``) alone let a bot that runs for months keep leads
    and questions long past their retention. A failing pruning is logged and tried again
    the next day; it never stops the bot.
    """
    from agentbot.runtime.wiring import apply_retention

    while True:
        await bot.clock.sleep_until(bot.clock.now() + interval_seconds)
        storage = bot._storage  # opened by the bot; None before its first use
        if storage is None:
            continue
        try:
            apply_retention(bot, bot.ledger, storage)
        except AgentbotError as exc:
            logger.warning("retention: pruning failed (%s); trying again in a day", exc)
