"""The one interface the runtime needs from the network: what :class:`AgentClient` offers.

The Bot talks to Smartsupp only through an object of this shape, so it runs unchanged on the
real client (production, end-to-end tests against the sandbox) and on a small in-memory fake
(unit tests that record what would have gone on the wire).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from agentbot.api import Request

__all__ = ["AgentClientLike", "ClientFactory"]


class AgentClientLike(Protocol):
    """The part of :class:`agentbot.client.AgentClient` the Bot uses."""

    @property
    def session(self) -> Any:
        """The live session (``AgentConnectReply``), or None."""
        ...

    @property
    def closed_reason(self) -> str | None:
        """Why the client stopped for good (``"logout"``, ``"auth_failure"``, ``"closed"``)."""
        ...

    def events(self) -> AsyncIterator[Any]:
        """Yield server events, ``Reconnected`` and ``ConnectionDropped`` until the end."""
        ...

    async def request(
        self, req: Request, *, timeout: float | None = None, on_link: int | None = None
    ) -> Any:
        """Send an acked request and return its typed reply (raises ``ApiError`` & co)."""
        ...

    async def send(self, req: Request) -> None:
        """Send a fire-and-forget request (``chat.typing``, ``agent.track_visitors``)."""
        ...

    async def flush(self) -> None:
        """Write every queued frame now (typing before a REST message)."""
        ...

    def set_track_visitors(self, enabled: bool) -> None:
        """Apply the wanted ``track_visitors`` now (if connected) and on every reconnect."""
        ...

    async def close(self) -> None:
        """Disconnect and stop."""
        ...


ClientFactory = Callable[[], AbstractAsyncContextManager[AgentClientLike]]
"""Builds a not-yet-entered client; entering it connects and logs in."""
