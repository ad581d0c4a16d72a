"""Engine.IO heartbeats as two tiny state machines driven by an explicit clock (PROTOCOL.md §1).

One side pings, the other listens, and the versions swap the roles:

============  ====================================  ====================================
              EIO 3                                 EIO 4
============  ====================================  ====================================
client        :class:`PingSender`: ping every       :class:`PingListener`: answer pings;
              interval, pong due within timeout     dead after interval + timeout without one
server        :class:`PingListener`: answer pings;  :class:`PingSender`: ping every
              dead after interval + timeout         interval, pong due within timeout
============  ====================================  ====================================

:func:`heartbeat_for` is the one place that maps (version, side) to a rule. Times are
whatever monotonic clock the caller uses; nothing here reads a clock. A deadline is reached
when ``now >= deadline`` (so a timeout fires exactly at the deadline, not a tick later).
The next ping is scheduled an interval after the pong, as engine.io does, so a slow pong
never leads to two pings in flight.
"""

from __future__ import annotations

import enum

from agentbot.protocol.versions import ProtocolVersion

__all__ = ["Heartbeat", "HeartbeatAction", "PingListener", "PingSender", "heartbeat_for"]


class HeartbeatAction(enum.Enum):
    """What :meth:`Heartbeat.tick` asks the connection to do."""

    NONE = "none"
    SEND_PING = "send ping"
    TIMED_OUT = "timed out"


class Heartbeat:
    """The interface both heartbeat rules share; all times in seconds on the caller's clock."""

    __slots__ = ("interval_seconds", "timeout_seconds")

    def __init__(self, interval_seconds: float, timeout_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds

    def start(self, now: float) -> None:
        """Begin at ``now``: the session just opened."""
        raise NotImplementedError

    def stop(self) -> None:
        """Forget every deadline: the session is over."""
        raise NotImplementedError

    def on_ping(self, now: float) -> None:
        """Note that the peer's ping arrived at ``now`` (the caller answers it)."""

    def on_pong(self, now: float) -> None:
        """Note that the peer's pong arrived at ``now``."""

    def tick(self, now: float) -> HeartbeatAction:
        """Advance to ``now`` and say whether to send a ping or give up."""
        raise NotImplementedError

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next run, or None when nothing is scheduled."""
        raise NotImplementedError


class PingSender(Heartbeat):
    """The pinging side (EIO 3 client, EIO 4 server).

    Sends a ping ``interval`` after the open, then ``interval`` after each pong; when no pong
    arrives within ``timeout`` of a ping, the peer is dead.
    """

    __slots__ = ("_next_ping", "_pong_deadline")

    def __init__(self, interval_seconds: float, timeout_seconds: float) -> None:
        super().__init__(interval_seconds, timeout_seconds)
        self._next_ping: float | None = None
        self._pong_deadline: float | None = None

    def start(self, now: float) -> None:
        """Schedule the first ping one interval after the open."""
        self._next_ping = now + self.interval_seconds
        self._pong_deadline = None

    def stop(self) -> None:
        """Cancel the next ping and any pong wait."""
        self._next_ping = None
        self._pong_deadline = None

    def on_pong(self, now: float) -> None:
        """Stop waiting for a pong and schedule the next ping one interval from ``now``.

        A pong nobody waited for (a duplicate, ``3probe``) changes nothing.
        """
        if self._pong_deadline is not None:
            self._pong_deadline = None
            self._next_ping = now + self.interval_seconds

    def tick(self, now: float) -> HeartbeatAction:
        """Send the due ping (then wait ``timeout`` for its pong) or report the timeout."""
        if self._pong_deadline is not None:
            if now >= self._pong_deadline:
                return HeartbeatAction.TIMED_OUT
            return HeartbeatAction.NONE
        if self._next_ping is not None and now >= self._next_ping:
            self._next_ping = None
            self._pong_deadline = now + self.timeout_seconds
            return HeartbeatAction.SEND_PING
        return HeartbeatAction.NONE

    def next_deadline(self) -> float | None:
        """The pong deadline while one is awaited, else the time of the next ping."""
        if self._pong_deadline is not None:
            return self._pong_deadline
        return self._next_ping


class PingListener(Heartbeat):
    """The listening side (EIO 4 client, EIO 3 server).

    The peer is dead when no ping arrives within ``interval + timeout`` of the open or of
    the previous ping.
    """

    __slots__ = ("_deadline",)

    def __init__(self, interval_seconds: float, timeout_seconds: float) -> None:
        super().__init__(interval_seconds, timeout_seconds)
        self._deadline: float | None = None

    def start(self, now: float) -> None:
        """Expect the first ping within interval + timeout of the open."""
        self._deadline = now + (self.interval_seconds + self.timeout_seconds)

    def stop(self) -> None:
        """Stop expecting pings."""
        self._deadline = None

    def on_ping(self, now: float) -> None:
        """Expect the next ping within interval + timeout of this one."""
        if self._deadline is not None:
            self._deadline = now + (self.interval_seconds + self.timeout_seconds)

    def tick(self, now: float) -> HeartbeatAction:
        """Report the timeout once the deadline is reached."""
        if self._deadline is not None and now >= self._deadline:
            return HeartbeatAction.TIMED_OUT
        return HeartbeatAction.NONE

    def next_deadline(self) -> float | None:
        """When the peer is declared dead unless a ping arrives first."""
        return self._deadline


def heartbeat_for(
    version: ProtocolVersion,
    *,
    client_side: bool,
    interval_seconds: float,
    timeout_seconds: float,
) -> Heartbeat:
    """Return the heartbeat rule for one side of a ``version`` session (see the module table)."""
    client_pings = version is ProtocolVersion.EIO3
    if client_side == client_pings:
        return PingSender(interval_seconds, timeout_seconds)
    return PingListener(interval_seconds, timeout_seconds)
