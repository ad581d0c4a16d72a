"""A frame-level WebSocket client for sandbox tests, in-process (asyncio and trio).

It speaks Engine.IO / Socket.IO by hand, with golden frames written in the tests, so these
tests do not share agentbot.protocol's code with the server they check.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from agentbot.sandbox import SandboxControl
from agentbot.sandbox.config import (
    DEFAULT_ACCOUNT_KEY,
    DEFAULT_BOT_AGENT_ID,
    DEFAULT_BOT_AUTH_TOKEN,
)

STEP_SECONDS = 5.0  # a safety bound for one expected frame, never a pacing


class Raw:
    """One raw connection: send text frames, read the next frame, decode events by hand."""

    def __init__(self, ws: AsyncWebSocketSession, eio: int) -> None:
        self.ws = ws
        self.eio = eio
        self.open_packet: dict[str, Any] = {}
        self._ack = 0

    async def send(self, text: str) -> None:
        await self.ws.send_text(text)

    async def recv(self) -> str:
        with anyio.fail_after(STEP_SECONDS):
            return await self.ws.receive_text()

    async def handshake(self) -> None:
        first = await self.recv()
        assert first.startswith("0{"), first
        self.open_packet = json.loads(first[1:])
        if self.eio == 3:
            assert await self.recv() == "40"
        else:
            await self.send("40")
            connected = await self.recv()
            assert connected.startswith('40{"sid":'), connected

    async def request(self, name: str, payload: Any, *, skip_events: bool = True) -> list[Any]:
        """Send an event with an ack id and return the ack's arguments."""
        ack_id = self._ack
        self._ack += 1
        await self.send(f"42{ack_id}" + json.dumps([name, payload], separators=(",", ":")))
        prefix = f"43{ack_id}"
        while True:
            frame = await self.recv()
            if frame.startswith(prefix):
                result: list[Any] = json.loads(frame[len(prefix) :])
                return result
            assert skip_events, frame
            assert frame.startswith("42"), frame

    async def closed(self) -> WebSocketDisconnect:
        """Read until the server closes the socket; return the close (code, reason)."""
        while True:
            try:
                await self.recv()
            except WebSocketDisconnect as closed:
                return closed

    async def emit(self, name: str, payload: Any) -> None:
        """Send an event without an ack id."""
        await self.send("42" + json.dumps([name, payload], separators=(",", ":")))

    async def event(self) -> tuple[str, Any]:
        """Return the next Socket.IO event (name, first argument), skipping heartbeats."""
        while True:
            frame = await self.recv()
            if frame.startswith("42"):
                name, *args = json.loads(frame[2:])
                return name, (args[0] if args else None)
            assert frame[:1] in ("2", "3"), frame

    async def login(
        self,
        *,
        agent_id: str = DEFAULT_BOT_AGENT_ID,
        token: str = DEFAULT_BOT_AUTH_TOKEN,
        track_visitors: bool | None = None,
    ) -> list[Any]:
        payload: dict[str, Any] = {
            "version": 5,
            "id": agent_id,
            "key": DEFAULT_ACCOUNT_KEY,
            "authToken": token,
        }
        if track_visitors is not None:
            payload["trackVisitors"] = track_visitors
        return await self.request("agent.connect", payload)

    async def visitor_login(self, visitor_id: str | None = None, **fields: Any) -> list[Any]:
        return await self.request(
            "visitor.connect", {"id": visitor_id, "key": DEFAULT_ACCOUNT_KEY, **fields}
        )


@asynccontextmanager
async def in_process(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the app in-process (HTTP and WebSocket)."""
    async with (
        ASGIWebSocketTransport(app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client,
    ):
        yield client


@asynccontextmanager
async def raw_socket(
    client: httpx.AsyncClient, *, eio: int = 3, query: str | None = None, handshake: bool = True
) -> AsyncIterator[Raw]:
    """Open /socket/ with ``EIO=eio&transport=websocket`` (or ``query``)."""
    url = "/socket/?" + (query if query is not None else f"EIO={eio}&transport=websocket")
    async with aconnect_ws(url, client, keepalive_ping_interval_seconds=None) as ws:
        raw = Raw(ws, eio)
        if handshake:
            await raw.handshake()
        yield raw


def control_of(app: Starlette) -> SandboxControl:
    control: SandboxControl = app.state.control
    return control
