"""Remember what the plugin has heard about visitors, for when the runtime cannot tell it."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

import attrs

from agentbot import PluginBot, Visitor

from . import compat

__all__ = ["VisitorCache"]

# visitor.updated carries the wire's camelCase names (hookspecs: on_visitor_updated).
_WIRE_NAMES = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "lang": "lang",
    "group": "group",
    "visits": "visits",
    "variables": "variables",
    "pageUrl": "page_url",
    "pageTitle": "page_title",
    "referer": "referer",
}


class VisitorCache:
    """The latest visitor details seen in visitor events, bounded (least recent dropped)."""

    def __init__(self, *, max_visitors: int = 10_000) -> None:
        self._visitors: collections.OrderedDict[str, Visitor] = collections.OrderedDict()
        self._max = max_visitors

    def seen(self, visitor: Visitor) -> None:
        """Record a visitor from ``visitor.connected``."""
        self._visitors[visitor.id] = visitor
        self._visitors.move_to_end(visitor.id)
        while len(self._visitors) > self._max:
            self._visitors.popitem(last=False)

    def updated(self, visitor_id: str, changes: Mapping[str, Any]) -> None:
        """Apply a ``visitor.updated`` change set."""
        known = {_WIRE_NAMES[key]: value for key, value in changes.items() if key in _WIRE_NAMES}
        current = self._visitors.get(visitor_id) or Visitor(id=visitor_id)
        try:
            self.seen(attrs.evolve(current, **known))
        except (TypeError, ValueError):
            self.seen(current)  # a malformed change set: keep what we knew

    def get(self, visitor_id: str | None) -> Visitor | None:
        """Return what the plugin saw of this visitor, or None."""
        return self._visitors.get(visitor_id) if visitor_id else None

    async def lookup(self, bot: PluginBot, visitor_id: str | None) -> Visitor | None:
        """Ask the runtime first (it may call ``visitor.get``), then this cache."""
        found = await compat.visitor(bot, visitor_id)
        return found if found is not None else self.get(visitor_id)
