"""FrameSession, the lean httpx-ws session, against the `websockets` server library.

It overrides httpx-ws internals (pinned in pyproject), so these tests pin its behaviour:
fragmented messages reassembled, several frames per read, pings answered, binary frames,
oversized messages and peer closes ending the link with a reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws

from agentbot.client.websocket import FrameSession, LinkClosed

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # websockets is asyncio


@asynccontextmanager
async def ws_server(handler: Callable[[Any], Awaitable[None]]) -> AsyncIterator[str]:
    import websockets.asyncio.server as ws_server_lib

    async with ws_server_lib.serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/"


@asynccontextmanager
async def session(url: str) -> AsyncIterator[FrameSession]:
    async with (
        httpx.AsyncClient() as client,
        aconnect_ws(
            url,
            client,
            session_class=FrameSession,
            keepalive_ping_interval_seconds=None,
            keepalive_ping_timeout_seconds=None,
        ) as ws,
    ):
        assert isinstance(ws, FrameSession)
        yield ws


async def collect(ws: FrameSession, count: int) -> list[str]:
    got: list[str] = []
    while len(got) < count:
        got.extend(await ws.receive_texts())
    return got


async def test_fragments_are_reassembled_and_bursts_arrive_together() -> None:
    async def handler(ws: Any) -> None:
        await ws.send(["4", '2["a",', "1]"])  # one message in three fragments
        for i in range(50):
            await ws.send(f'42["n",{i}]')
        await ws.wait_closed()

    async with ws_server(handler) as url, session(url) as ws:
        got = await collect(ws, 51)
    assert got[0] == '42["a",1]'
    assert got[1:] == [f'42["n",{i}]' for i in range(50)]


async def test_pings_are_answered_and_texts_round_trip() -> None:
    async def handler(ws: Any) -> None:
        pong = await ws.ping(b"hi")
        await pong
        async for message in ws:
            await ws.send("echo:" + message)

    async with ws_server(handler) as url, session(url) as ws:
        await ws.send_texts(["2", '42["x"]'])
        assert await collect(ws, 2) == ["echo:2", 'echo:42["x"]']


@pytest.mark.parametrize(
    ("send", "reason"),
    [
        (lambda ws: ws.send(b"\x00binary"), "binary"),
        (lambda ws: ws.close(1001, "going away"), "closed by peer"),
        (lambda ws: ws.send("x" * 2000), "message too big: over the 1000-byte frame limit"),
    ],
    ids=["binary", "close", "oversize"],
)
async def test_the_link_ends_with_a_reason(send: Any, reason: str) -> None:
    async def handler(ws: Any) -> None:
        await send(ws)
        await ws.wait_closed()

    async with ws_server(handler) as url, session(url) as ws:
        ws.max_frame_bytes = 1000
        with pytest.raises(LinkClosed) as info:
            await collect(ws, 1)
    assert reason in info.value.reason
