"""A client and a server connection wired back to back (as h11's tests do), on a fake clock.

Frames go through for real: each side's ``data_to_send()`` is fed to the other side's
``receive_text()``, and every frame is recorded so tests can assert on the exact wire text.
"""

from __future__ import annotations

from typing import Any

from agentbot.protocol import (
    ClientConnection,
    ConnectionState,
    ConnectRequested,
    ProtocolEvent,
    ProtocolVersion,
    ServerConnection,
)

SID = "sid-1"


class Pair:
    """One client and one server connection plus the frames that passed between them."""

    def __init__(
        self,
        version: ProtocolVersion,
        *,
        namespace: str = "/",
        auth: dict[str, Any] | None = None,
        **server_options: Any,
    ) -> None:
        self.version = version
        self.client = ClientConnection(version, namespace=namespace, auth=auth)
        self.server = ServerConnection(version, sid=SID, **server_options)
        self.wire: list[tuple[str, str]] = []

    def to_client(self, now: float = 0.0) -> list[ProtocolEvent]:
        """Deliver every frame the server queued; return what the client made of them."""
        events: list[ProtocolEvent] = []
        for frame in self.server.data_to_send():
            self.wire.append(("S", frame))
            events.extend(self.client.receive_text(frame, now))
        return events

    def to_server(self, now: float = 0.0) -> list[ProtocolEvent]:
        """Deliver every frame the client queued; return what the server made of them."""
        events: list[ProtocolEvent] = []
        for frame in self.client.data_to_send():
            self.wire.append(("C", frame))
            events.extend(self.server.receive_text(frame, now))
        return events

    def handshake(self, now: float = 0.0) -> None:
        """Open the session and connect the namespace on both sides (either version)."""
        self.server.open(now)
        self.to_client(now)
        requests = self.to_server(now)
        if self.version is ProtocolVersion.EIO4:
            assert isinstance(requests[0], ConnectRequested)
            self.server.accept(requests[0].namespace)
            self.to_client(now)
        assert self.client.state is ConnectionState.CONNECTED
        assert self.server.state is ConnectionState.CONNECTED
        self.wire.clear()
