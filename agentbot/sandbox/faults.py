"""Faults the sandbox can inject, so clients can be tested against a misbehaving server.

Standing faults live here (delayed or dropped acks, stopped heartbeats, REST faults);
one-shot faults (drop a socket, send ``server.error``/``logout``/a malformed frame) are
actions on live connections and live in :mod:`agentbot.sandbox.hub`. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "DEFAULT_MALFORMED_FRAME",
    "REST_ACTIONS",
    "AckAction",
    "AckFault",
    "Faults",
    "RestAction",
    "RestFault",
]

AckAction = Literal["delay", "drop"]
RestAction = Literal["error", "unauthorized", "slow", "drop"]
"""What a REST fault does to a matching request:

- ``error``: answer ``status`` (default 503) with ``{code, message}`` *before* doing anything;
- ``unauthorized``: answer 401 as for a wrong token, before doing anything;
- ``slow``: do the work (a message is stored and delivered), then hold the answer back for
  ``delay_seconds`` — a client timing out first cannot know the request took effect;
- ``drop``: do the work, then cut the answer short (headers sent, body truncated), as a
  connection dropped mid-response.
"""
REST_ACTIONS: tuple[RestAction, ...] = ("error", "unauthorized", "slow", "drop")

DEFAULT_MALFORMED_FRAME = "x: not an Engine.IO packet"
"""A frame with no valid Engine.IO packet type. Every client we know treats it as a broken
link (python-engineio aborts, engine.io-client 3 reports a parser error and closes, agentbot
raises RemoteProtocolError); a well-framed but invalid Socket.IO packet is merely ignored by
some of them, so it would not test anything."""


@dataclass(slots=True)
class AckFault:
    """Delay or drop the replies to one request name (optionally for one agent only)."""

    id: int
    request: str
    action: AckAction
    delay_seconds: float = 0.0
    remaining: int | None = None  # None: until cleared
    agent_id: str | None = None
    applied: int = 0

    def to_json(self) -> dict[str, Any]:
        """The control API's view of this fault."""
        return {
            "id": self.id,
            "kind": "ack",
            "request": self.request,
            "action": self.action,
            "delaySeconds": self.delay_seconds,
            "remaining": self.remaining,
            "agentId": self.agent_id,
            "applied": self.applied,
        }


@dataclass(slots=True)
class RestFault:
    """A fault for REST requests matching ``operation`` (e.g. ``"POST /v2/conversations/{id}"``;
    None: every REST request), optionally for one agent's token only."""

    id: int
    action: RestAction
    operation: str | None = None
    status: int = 503
    delay_seconds: float = 0.0
    remaining: int | None = None  # None: until cleared
    agent_id: str | None = None
    applied: int = 0

    def to_json(self) -> dict[str, Any]:
        """The control API's view of this fault."""
        return {
            "id": self.id,
            "kind": "rest",
            "action": self.action,
            "operation": self.operation,
            "status": self.status,
            "delaySeconds": self.delay_seconds,
            "remaining": self.remaining,
            "agentId": self.agent_id,
            "applied": self.applied,
        }


@dataclass(slots=True)
class Faults:
    """The standing faults of one sandbox."""

    ack_faults: list[AckFault] = field(default_factory=list)
    silent_agents: set[str] = field(default_factory=set)
    """Agents whose new connections start with heartbeats stopped."""
    rest_faults: list[RestFault] = field(default_factory=list)
    _next_id: int = 1

    def add_rest_fault(
        self,
        *,
        action: RestAction,
        operation: str | None = None,
        status: int = 503,
        delay_seconds: float = 0.0,
        count: int | None = None,
        agent_id: str | None = None,
    ) -> RestFault:
        """Register a REST fault; it applies to the next ``count`` matching requests."""
        fault = RestFault(
            id=self._next_id,
            action=action,
            operation=operation,
            status=status,
            delay_seconds=delay_seconds,
            remaining=count,
            agent_id=agent_id,
        )
        self._next_id += 1
        self.rest_faults.append(fault)
        return fault

    def take_rest_fault(self, operation: str, agent_id: str | None) -> RestFault | None:
        """Return the REST fault that applies to this request (consuming one use), or None."""
        return _take(
            self.rest_faults,
            lambda f: f.operation in (None, operation) and f.agent_id in (None, agent_id),
        )

    def add_ack_fault(
        self,
        *,
        request: str,
        action: AckAction,
        delay_seconds: float = 0.0,
        count: int | None = None,
        agent_id: str | None = None,
    ) -> AckFault:
        """Register an ack fault; it applies to the next ``count`` matching replies."""
        fault = AckFault(
            id=self._next_id,
            request=request,
            action=action,
            delay_seconds=delay_seconds,
            remaining=count,
            agent_id=agent_id,
        )
        self._next_id += 1
        self.ack_faults.append(fault)
        return fault

    def take_ack_fault(self, request: str, agent_id: str | None) -> AckFault | None:
        """Return the fault that applies to this reply (consuming one use), or None."""
        return _take(
            self.ack_faults, lambda f: f.request == request and f.agent_id in (None, agent_id)
        )

    def clear(self) -> None:
        """Remove every standing fault."""
        self.ack_faults.clear()
        self.silent_agents.clear()
        self.rest_faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        """The control API's list of standing faults."""
        items = [fault.to_json() for fault in self.ack_faults]
        items.extend(fault.to_json() for fault in self.rest_faults)
        items.extend(
            {"kind": "heartbeat", "agentId": agent} for agent in sorted(self.silent_agents)
        )
        return items


_Fault = TypeVar("_Fault", AckFault, RestFault)


def _take(standing: list[_Fault], applies: Callable[[_Fault], bool]) -> _Fault | None:
    """The first standing fault that ``applies``, with one use counted (gone when used up)."""
    for fault in standing:
        if applies(fault):
            fault.applied += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    standing.remove(fault)
            return fault
    return None
