"""The bot's small memory of visitors: who is behind a chat (name, language, visits, …).

Why the runtime keeps it: with ``track_visitors`` off the bot never sees a new visitor's
``visitor.connected`` (it is announced before the chat opens, PROTOCOL.md §2), so a plugin
that wants to greet "Ada" in her language has no way to learn either. The
:class:`VisitorDirectory` keeps the latest details the bot heard (``visitor.connected``,
``visitor.updated`` applied to a visitor it knows), asks the server (``visitor.get``) on a
miss, and answers every plugin from the same small cache.

Bounds and failure rules, so a busy site or a broken server cannot hurt the bot:

* at most :data:`MAX_VISITORS` visitors are kept; the least recently used are forgotten;
* a ``visitor.get`` gets :data:`VISITOR_GET_TIMEOUT_SECONDS` (real time: it guards against a
  hang, like the plugin time budget); any error or timeout gives None, and the failure is
  remembered for :data:`RETRY_AFTER_FAILURE_SECONDS` on the runtime clock, so plugins asking
  again on every message do not wait out the same timeout each time;
* lookups of one visitor running at the same time (two plugins in one hook) share one
  ``visitor.get``;
* a ``visitor.updated`` for a visitor not in the cache is not stored as a partial record
  (that would hide the name a lookup would fetch); one that does not fit the model drops the
  stale entry, so the next lookup asks the server.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from agentbot.api import Visitor, apply_changes
from agentbot.errors import AgentbotError
from agentbot.runtime.clock import Clock

__all__ = [
    "MAX_VISITORS",
    "RETRY_AFTER_FAILURE_SECONDS",
    "VISITOR_GET_TIMEOUT_SECONDS",
    "NotConnected",
    "VisitorDirectory",
]

logger = logging.getLogger(__name__)

MAX_VISITORS = 1000
"""Visitors kept in the cache (and failed lookups remembered), least recently used dropped."""

VISITOR_GET_TIMEOUT_SECONDS = 2.0
"""How long one ``visitor.get`` may take before the lookup gives None."""

RETRY_AFTER_FAILURE_SECONDS = 30.0
"""After a failed ``visitor.get``, lookups of that visitor give None this long without asking."""

Fetch = Callable[[str], Awaitable[Any]]
"""Sends ``visitor.get`` for an id and returns the reply (a :class:`Visitor`), or raises."""


class NotConnected(AgentbotError):
    """Raised by a fetch function when there is no connection to ask: not a remembered failure."""


class VisitorDirectory:
    """A bounded cache of visitor details, filled from events and from ``visitor.get``.

    ``fetch`` asks the server for one visitor; ``clock`` times the memory of failures.
    ``timeout_seconds``, ``max_visitors`` and ``retry_after_seconds`` default to the module
    constants (tests shrink them).
    """

    def __init__(
        self,
        *,
        fetch: Fetch,
        clock: Clock,
        max_visitors: int = MAX_VISITORS,
        timeout_seconds: float = VISITOR_GET_TIMEOUT_SECONDS,
        retry_after_seconds: float = RETRY_AFTER_FAILURE_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self.max_visitors = max_visitors
        self.timeout_seconds = timeout_seconds
        self.retry_after_seconds = retry_after_seconds
        self._known: collections.OrderedDict[str, Visitor] = collections.OrderedDict()
        self._failed: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._inflight: dict[str, anyio.Event] = {}
        self.fetches = 0
        """How many ``visitor.get`` requests were sent (for tests and stats)."""

    def __len__(self) -> int:
        return len(self._known)

    # -- fed by the dispatcher (synchronous) --------------------------------------------------

    def seen(self, visitor: Visitor) -> None:
        """Store ``visitor`` as the latest known details (``visitor.connected``, a lookup)."""
        self._known[visitor.id] = visitor
        self._known.move_to_end(visitor.id)
        self._failed.pop(visitor.id, None)
        while len(self._known) > self.max_visitors:
            self._known.popitem(last=False)

    def updated(self, visitor_id: str, changes: Mapping[str, Any]) -> None:
        """Apply a ``visitor.updated`` change set (wire names) to a visitor already known."""
        current = self._known.get(visitor_id)
        if current is None:
            return
        try:
            merged = apply_changes(current, {**changes, "id": visitor_id}, event="visitor.updated")
        except AgentbotError as exc:
            logger.info("visitor %s: update does not fit (%s); forgetting it", visitor_id, exc)
            del self._known[visitor_id]
            return
        self.seen(merged)

    def get_nowait(self, visitor_id: str) -> Visitor | None:
        """Return the cached visitor, or None; never asks the server."""
        return self._known.get(visitor_id)

    # -- asked by plugins ----------------------------------------------------------------------

    async def lookup(self, visitor_id: str) -> Visitor | None:
        """Return the visitor from the cache, else from ``visitor.get``; None if unavailable."""
        while True:
            known = self._known.get(visitor_id)
            if known is not None:
                self._known.move_to_end(visitor_id)
                return known
            failed_at = self._failed.get(visitor_id)
            if failed_at is not None:
                if self._clock.now() - failed_at < self.retry_after_seconds:
                    return None
                del self._failed[visitor_id]
            pending = self._inflight.get(visitor_id)
            if pending is None:
                return await self._ask(visitor_id)
            # Someone is asking already: wait for their answer, then read the cache. If they
            # were cancelled before it came, the loop asks again.
            await pending.wait()

    async def _ask(self, visitor_id: str) -> Visitor | None:
        done = self._inflight[visitor_id] = anyio.Event()
        try:
            found = await self._fetch_one(visitor_id)
        finally:
            del self._inflight[visitor_id]
            done.set()
        return found

    async def _fetch_one(self, visitor_id: str) -> Visitor | None:
        self.fetches += 1
        problem: str
        with anyio.move_on_after(self.timeout_seconds) as scope:
            try:
                reply = await self._fetch(visitor_id)
            except NotConnected:
                return None  # not the server's fault: ask again once connected
            except AgentbotError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if isinstance(reply, Visitor):
                    self.seen(reply)
                    return reply
                problem = f"unexpected reply {type(reply).__name__}"
        if scope.cancelled_caught:
            problem = f"no answer within {self.timeout_seconds:g} s"
        logger.info("visitor %s: visitor.get failed (%s)", visitor_id, problem)
        self._failed[visitor_id] = self._clock.now()
        self._failed.move_to_end(visitor_id)
        while len(self._failed) > self.max_visitors:
            self._failed.popitem(last=False)
        return None
