"""Run the sandbox app under uvicorn on 127.0.0.1 (asyncio only: uvicorn is asyncio-based).

The listening socket is bound before uvicorn starts, so the URL is known, and usable, the
moment the context is entered: nothing polls for the server to come up.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Generator

import anyio
import uvicorn
from starlette.applications import Starlette

from agentbot.sandbox.hub import Sandbox

__all__ = ["DEFAULT_HOST", "running_server", "serve"]

DEFAULT_HOST = "127.0.0.1"
SHUTDOWN_GRACE_SECONDS = 2


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host (a test runner)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _uvicorn_config(app: Starlette) -> uvicorn.Config:
    sandbox: Sandbox = app.state.sandbox
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        # Engine.IO heartbeats own liveness; WebSocket-level pings would hide a dead link.
        ws_ping_interval=None,
        ws_ping_timeout=None,
        # Let oversized frames reach the protocol, which closes with a clear reason.
        ws_max_size=2 * sandbox.config.max_payload_bytes + 1024,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextlib.asynccontextmanager
async def running_server(
    app: Starlette, *, host: str = DEFAULT_HOST, port: int = 0
) -> AsyncIterator[str]:
    """Serve ``app`` while the context is open; yield its base URL (``http://127.0.0.1:N``).

    ``port=0`` picks a free ephemeral port. Open sockets are closed on exit.
    """
    sock = _bind(host, port)
    server = _QuietServer(_uvicorn_config(app))
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(server.serve, [sock])
            try:
                yield _base_url(sock)
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def serve(
    app: Starlette,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C / SIGTERM); for ``agentbot sandbox``.

    ``on_ready`` receives the base URL once the socket is listening.
    """
    sock = _bind(host, port)
    try:
        if on_ready is not None:
            on_ready(_base_url(sock))
        await uvicorn.Server(_uvicorn_config(app)).serve([sock])
    finally:
        sock.close()
