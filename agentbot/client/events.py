"""Events the client itself adds to the server's event stream."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["ConnectionDropped", "Reconnected"]


@attrs.frozen(kw_only=True)
class ConnectionDropped:
    """The link was lost; the client is about to reconnect (no reply can be sent meanwhile)."""

    reason: str


@attrs.frozen(kw_only=True)
class Reconnected:
    """A new session is up after a lost link: ``agent.connect`` succeeded again and
    ``agent.track_visitors`` was re-applied before this event was emitted.

    ``attempt`` counts the connection attempts it took (1 when the first try worked);
    ``downtime_seconds`` is the time from losing the old link to the new session.
    """

    attempt: int
    downtime_seconds: float
    session: Any
