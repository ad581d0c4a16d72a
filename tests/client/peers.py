"""Scripted Smartsupp servers nobody here wrote, for the client's tests.

- :class:`NodeSmartsupp`: socket.io 2.x (Engine.IO 3 / Socket.IO 4) in node, driven over
  stdin/stdout JSON lines (tests/interop/smartsupp_server.js).
- :class:`PySocketIOSmartsupp`: python-socketio's ``AsyncServer`` (Engine.IO 4 / Socket.IO 5)
  under uvicorn, asyncio only.

Both record every request they receive, in arrival order, so tests assert on the wire.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from interop.node import NodePeers

AGENT_ID = "345111"
KEY = "d57ad424c173ea4541bef97b766c168a83042788"
AUTH_TOKEN = "6d267d6cd580a4c01afbb2f0b565ab7d"

AGENT = {
    "id": AGENT_ID,
    "status": "online",
    "groups": [],
    "email": "bot@example.com",
    "nickname": "bot",
    "fullname": "Agent Bot",
    "description": "",
    "avatar": None,
    "connectedAt": "2026-01-01T00:00:00.000Z",
    "disabled": False,
}
CONNECT_REPLY = {
    "serverVersion": 3,
    "agent": AGENT,
    "account": {"agents": [AGENT], "groups": [{"key": "g1", "name": "Support"}]},
}


class Recorder:
    """What a scripted server received, plus a way to wait for it without sleeping."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[Any]]] = []
        self.connections = 0
        self._changed = anyio.Event()

    def record(self, event: str, args: list[Any]) -> None:
        self.received.append((event, args))
        self.changed()

    def changed(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def names(self) -> list[str]:
        return [name for name, _ in self.received]

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 10.0) -> None:
        with anyio.fail_after(timeout):
            while not predicate():
                await self._changed.wait()


class NodeSmartsupp(Recorder):
    """The node socket.io 2.x server as a context manager: ``async with NodeSmartsupp.run(...)``."""

    def __init__(self, process: anyio.abc.Process) -> None:
        super().__init__()
        self.process = process
        self.port = 0
        self.url = ""
        self._done = 0
        self._commands = 0

    @classmethod
    @asynccontextmanager
    async def run(cls, peers: NodePeers, **config: Any) -> AsyncIterator[NodeSmartsupp]:
        cfg = {"agentId": AGENT_ID, "key": KEY, "authToken": AUTH_TOKEN, **config}
        process = await anyio.open_process(
            peers.command("smartsupp_server.js", json.dumps(cfg)), cwd=peers.directory
        )
        server = cls(process)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(server._pump)
                await server.wait_for(lambda: server.port != 0)
                yield server
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                process.kill()
                await process.aclose()

    async def _pump(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        async for chunk in self.process.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self._on_line(json.loads(line))

    def _on_line(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "listening":
            self.port = msg["port"]
            self.url = f"http://127.0.0.1:{self.port}"
        elif kind == "received":
            self.record(msg["event"], msg["args"])
            return
        elif kind == "connection":
            self.connections += 1
        elif kind == "done":
            self._done += 1
        self.changed()

    async def command(self, cmd: str, **fields: Any) -> None:
        """Send one command and wait until the server has carried it out."""
        assert self.process.stdin is not None
        self._commands += 1
        expected = self._commands
        await self.process.stdin.send((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self.wait_for(lambda: self._done >= expected)


def free_port_socket() -> socket.socket:
    """A listening-ready socket on 127.0.0.1 with an ephemeral port, for uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on an ephemeral 127.0.0.1 port; yield its base URL."""
    import uvicorn

    sock = free_port_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            with anyio.fail_after(10):
                while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()  # uvicorn does not close a socket it was handed


class PySocketIOSmartsupp(Recorder):
    """python-socketio's AsyncServer scripted as a small Smartsupp (Engine.IO 4 / SIO 5)."""

    def __init__(self, *, ping_interval: float = 25, ping_timeout: float = 20) -> None:
        super().__init__()
        import socketio

        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            async_handlers=False,  # handle requests in arrival order, as the recording expects
            logger=False,
            engineio_logger=False,
        )
        self.app = socketio.ASGIApp(self.sio, socketio_path="socket")
        self.authenticated: set[str] = set()
        self.drop_acks: set[str] = set()
        self.sids: list[str] = []
        self.url = ""
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("*", self._on_any)

    async def _on_connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        self.sids.append(sid)
        self.connections += 1
        self.changed()

    async def _on_disconnect(self, sid: str, *args: Any) -> None:
        if sid in self.sids:
            self.sids.remove(sid)
        self.authenticated.discard(sid)
        self.changed()

    async def _on_any(self, event: str, sid: str, *args: Any) -> Any:
        self.record(event, list(args))
        if event in self.drop_acks:
            # python-socketio always acks what was sent with an id, so answer late instead:
            # the client has given up by then and must drop the late ack quietly.
            await anyio.sleep(0.5)
            return None
        data = args[0] if args else None
        if event == "agent.connect":
            ok = (
                isinstance(data, dict)
                and data.get("version") == 5
                and data.get("id") == AGENT_ID
                and data.get("key") == KEY
                and data.get("authToken") == AUTH_TOKEN
            )
            if not ok:
                return (
                    {"message": "Auth token is invalid", "event": event, "type": "auth_failure"},
                    None,
                )
            self.authenticated.add(sid)
            return None, CONNECT_REPLY
        if sid not in self.authenticated:
            error = {
                "message": "Not authenticated",
                "event": event,
                "type": "auth_error",
                "code": 403,
            }
            return error, None
        if event == "agent.logout":
            return None, True
        if event == "visitor.get":
            if data.get("id") == "missing":
                return {"message": "Visitor not found", "event": event, "type": "not_found"}, None
            return None, {"id": data["id"], "visits": 1, "variables": {}}
        if event == "chat.message":
            message = {
                "id": "m1",
                "type": "message",
                "subType": "agent",
                "chatId": data["chatId"],
                "visitorId": data["visitorId"],
                "agentId": AGENT_ID,
                "createdAt": "2026-01-01T00:00:00.000Z",
                "content": data["content"],
            }
            return None, message
        return None

    async def emit(self, name: str, *args: Any) -> None:
        for sid in list(self.sids):
            await self.sio.emit(name, args[0] if len(args) == 1 else list(args), to=sid)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[PySocketIOSmartsupp]:
        async with serve_asgi(self.app) as url:
            self.url = url
            yield self
