"""Retention: leads, hand-off notes and stored questions are forgotten after a while.

``[runtime]`` ``lead_retention_days``, ``handoff_note_retention_days`` and
``question_retention_days`` (answered ids and the outbox: ``seen_retention_days``, in the
ledger). Delivered leads and notes (``outbox:`` records of after_hours and handoff) are
dropped that long after delivery; pending ones never, since they have not reached the
webhook yet. FAQ gaps and feedback go that long after they were written. Runs when the bot
opens its storage (every start) and then daily while it runs.
"""

from __future__ import annotations

import json

from agentbot.runtime.config import BotConfig
from agentbot.runtime.storage import Storage, as_text

__all__ = ["LEAD_PLUGINS", "NOTE_PLUGINS", "QUESTION_PREFIXES", "prune_retention"]

_DAY_SECONDS = 86400.0

LEAD_PLUGINS = ("after_hours",)
"""Plugins whose ``outbox:`` records are leads."""
NOTE_PLUGINS = ("handoff",)
"""Plugins whose ``outbox:`` records are hand-off notes."""
QUESTION_PREFIXES = ("gap:", "feedback-case:")
"""Plugin storage keys holding visitors' questions (faq gaps and feedback)."""
_OUTBOX_PREFIX = "outbox:"


def prune_retention(storage: Storage, config: BotConfig, *, now: float) -> dict[str, int]:
    """Forget delivered leads and notes, and stored questions, past their retention.

    Returns counts per kind.
    """
    runtime = config.runtime
    report = {"leads": 0, "handoff notes": 0, "questions": 0}
    rows = storage.execute("SELECT plugin, key, value, updated_at FROM plugin_kv").rows
    for plugin_raw, key_raw, value_raw, updated_at in rows:
        plugin, key = as_text(plugin_raw), as_text(key_raw)
        kind: str | None = None
        days = 0.0
        if key.startswith(_OUTBOX_PREFIX) and plugin in LEAD_PLUGINS + NOTE_PLUGINS:
            try:
                record = json.loads(as_text(value_raw))
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
