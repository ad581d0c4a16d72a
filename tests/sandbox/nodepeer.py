"""Drive tests/interop/sandbox_peer.js: a socket.io-client 2.x agent or Smartsupp's official
VisitorClient, over stdin/stdout JSON lines. asyncio only (the sandbox runs under uvicorn)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from interop.node import NodePeers

STEP_SECONDS = 10.0


class NodePeer:
    """One node client process; ``lines`` holds everything it printed, in order."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._changed = anyio.Event()

    @classmethod
    @asynccontextmanager
    async def run(cls, peers: NodePeers, **config: Any) -> AsyncIterator[NodePeer]:
        process = await anyio.open_process(
            peers.command("sandbox_peer.js", json.dumps(config)), cwd=peers.directory
        )
        peer = cls(process)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(peer._pump)
                yield peer
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
                self.lines.append(json.loads(line))
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(STEP_SECONDS):
            while not predicate():
                await self._changed.wait()

    def count(self, kind: str, name: str | None = None) -> int:
        return sum(
            1
            for line in self.lines
            if line["type"] == kind and (name is None or line.get("name") == name)
        )

    def events(self, name: str) -> list[Any]:
        return [
            line["data"] for line in self.lines if line["type"] == "event" and line["name"] == name
        ]

    def event_names(self) -> list[str]:
        return [line["name"] for line in self.lines if line["type"] == "event"]

    async def wait_event(self, name: str, count: int = 1) -> Any:
        """Wait until the ``count``-th ``name`` event has arrived; return its data."""
        await self.wait_for(lambda: self.count("event", name) >= count)
        return self.events(name)[count - 1]

    async def wait_connects(self, count: int) -> None:
        await self.wait_for(lambda: self.count("connect") >= count)

    async def send(self, cmd: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send((json.dumps({"cmd": cmd, **fields}) + "\n").encode())

    async def ask(self, cmd: str, **fields: Any) -> tuple[Any, Any]:
        """Send a command with an id and return its (error, result)."""
        command_id = next(self._ids)
        await self.send(cmd, id=command_id, **fields)

        def answered() -> bool:
            return any(x["type"] == "result" and x.get("id") == command_id for x in self.lines)

        await self.wait_for(answered)
        line = next(x for x in self.lines if x["type"] == "result" and x.get("id") == command_id)
        return line["error"], line["result"]

    async def call(self, name: str, data: Any) -> tuple[Any, Any]:
        """Agent role: an acked request."""
        return await self.ask("call", name=name, data=data)

    async def emit(self, name: str, data: Any) -> None:
        """Agent role: a request without an ack."""
        await self.send("emit", name=name, data=data)
