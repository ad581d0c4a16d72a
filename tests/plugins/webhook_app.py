"""A tiny webhook receiver: an ASGI app served by uvicorn on an ephemeral 127.0.0.1 port."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio


class WebhookApp:
    """Records JSON POSTs; answers 500 while ``failures`` > 0 (counting down), then 200."""

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.headers: list[dict[str, str]] = []
        self.changed = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.attempts += 1
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        if self.failures > 0:
            self.failures -= 1
            status = 500
        else:
            status = 200
            self.received.append(json.loads(body))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        self.changed.set()
        self.changed = anyio.Event()

    async def wait_attempts(self, count: int) -> None:
        while self.attempts < count:
            await self.changed.wait()


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1:0 (asyncio only); yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
