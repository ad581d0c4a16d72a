"""The operations endpoint: ``/metrics``, ``/healthz`` and ``/readyz`` over HTTP/1.1.

``[server] listen = "127.0.0.1:9108"`` turns it on (it is off by default, and the example
binds loopback: expose it further only on purpose, e.g. to a Prometheus on the host).

* ``/metrics``: prometheus_client's own exposition of :class:`~agentbot.runtime.metrics.
  Metrics` (text format, or OpenMetrics when the scraper asks for it).
* ``/healthz``: the process is alive and serving — 200 whenever it answers at all.
* ``/readyz``: every bot of the process is logged in *and* the event loop is responsive —
  a ticker task in the bot's loop wakes every :data:`TICK_SECONDS` and notes how late it
  woke; a loop lag past ``max_loop_lag_seconds`` means something blocks the loop (the bot
  would not answer either). The lag is the larger of the latest tick's lateness and how
  overdue the next tick is, so a probe that waited out a block (the server answers only
  once the loop is free again) still hears about it, whichever of the two runs first.
  200 when ready, 503 with the reasons otherwise; both bodies are JSON.

Why not uvicorn + starlette (which the sandbox uses): uvicorn runs on asyncio only, and the
bot runs on asyncio and trio. Three fixed GET routes need no framework: this is anyio's TCP
listener with h11 (the HTTP/1.1 state machine httpx and uvicorn are built on) parsing the
requests, so it works on either loop, inside the bot's own task group.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import h11
from prometheus_client.exposition import choose_encoder

from agentbot.runtime.metrics import Metrics, MetricsSource

__all__ = [
    "DEFAULT_MAX_LOOP_LAG_SECONDS",
    "TICK_SECONDS",
    "OpsServer",
    "operations_endpoint",
    "parse_listen",
]

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.5
DEFAULT_MAX_LOOP_LAG_SECONDS = 2.0
_REQUEST_TIMEOUT_SECONDS = 10.0
_MAX_REQUEST_BYTES = 16384


def parse_listen(listen: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[::1]:9108`` for IPv6) into host and port."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class OpsServer:
    """Serve ``metrics`` and the health of its bots on ``host:port``.

    ``await task_group.start(server.serve)`` binds, starts the loop ticker, and returns the
    bound port (useful with port 0); cancel the task group to stop.
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        host: str = "127.0.0.1",
        port: int = 9108,
        max_loop_lag_seconds: float = DEFAULT_MAX_LOOP_LAG_SECONDS,
    ) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self.max_loop_lag_seconds = max_loop_lag_seconds
        self.last_tick: float | None = None
        """Event-loop time of the ticker's latest run (None before it started)."""
        self.last_tick_lateness = 0.0
        """How late (seconds past its schedule) the ticker's latest run woke."""

    # -- health ------------------------------------------------------------------------------

    def loop_lag_seconds(self) -> float | None:
        """Return how far the loop is behind: the latest tick's lateness or the next tick's
        overdue time, whichever is larger (None before the ticker ran)."""
        if self.last_tick is None:
            return None
        overdue = anyio.current_time() - self.last_tick - TICK_SECONDS
        return max(0.0, overdue, self.last_tick_lateness)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Return (ready, details): every bot logged in and the loop responsive."""
        reasons: list[str] = []
        bots: dict[str, Any] = {}
        for name, bot in sorted(self.metrics.bots().items()):
            logged_in = bot.session is not None and getattr(bot, "client", None) is not None
            bots[name] = {"logged_in": logged_in}
            if getattr(bot, "closed_reason", None):  # a fleet bot left stopped: say why
                bots[name]["closed_reason"] = bot.closed_reason  # type: ignore[attr-defined]
            if getattr(bot, "replica_role", None) == "standby":  # runtime/replica.py
                bots[name]["standby"] = True
                reasons.append(f"bot {name} is a standby: another replica holds the lease")
            elif not logged_in:
                reasons.append(f"bot {name} is not logged in")
        if not bots:
            reasons.append("no bot is running")
        lag = self.loop_lag_seconds()
        if lag is None:
            reasons.append("the event loop ticker has not run yet")
        elif lag > self.max_loop_lag_seconds:
            reasons.append(f"the event loop is {lag:.1f} s behind")
        details = {"ready": not reasons, "bots": bots, "loop_lag_seconds": lag}
        if reasons:
            details["reasons"] = reasons
        return not reasons, details

    # -- serving -----------------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Bind, report the bound port through ``task_status``, serve until cancelled."""
        listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        async with listener, anyio.create_task_group() as tg:
            port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
            self.port = port
            tg.start_soon(self._tick)
            logger.info(
                "operations endpoint on http://%s:%d (/metrics /healthz /readyz)", self.host, port
            )
            task_status.started(port)
            await listener.serve(self._connection, task_group=tg)

    async def _tick(self) -> None:
        # Real time on purpose: this watches the process, like the runtime's hang guards.
        while True:
            now = anyio.current_time()
            if self.last_tick is not None:
                self.last_tick_lateness = max(0.0, now - self.last_tick - TICK_SECONDS)
            self.last_tick = now
            await anyio.sleep(TICK_SECONDS)

    async def _connection(self, stream: anyio.abc.ByteStream) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST_BYTES)
        try:
            async with stream:
                with anyio.move_on_after(_REQUEST_TIMEOUT_SECONDS):
                    await self._exchange(connection, stream)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass  # the scraper went away: nothing to answer

    async def _exchange(self, connection: h11.Connection, stream: anyio.abc.ByteStream) -> None:
        request: h11.Request | None = None
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError:
                await self._send(connection, stream, 400, b"bad request\n", "text/plain")
                return
            if event is h11.NEED_DATA:
                try:
                    data = await stream.receive(65536)
                except anyio.EndOfStream:
                    data = b""
                connection.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.EndOfMessage) and request is not None:
                status, body, content_type = self._route(request)
                await self._send(connection, stream, status, body, content_type)
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    return
                connection.start_next_cycle()
                request = None
            elif isinstance(event, h11.ConnectionClosed):
                return

    def _route(self, request: h11.Request) -> tuple[int, bytes, str]:
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        if request.method != b"GET":
            return 405, b"method not allowed\n", "text/plain"
        if path == "/metrics":
            headers = {name.decode().lower(): value.decode() for name, value in request.headers}
            encoder, content_type = choose_encoder(headers.get("accept", ""))
            return 200, encoder(self.metrics.registry), content_type
        if path == "/healthz":
            return 200, _json({"alive": True}), "application/json"
        if path == "/readyz":
            ready, details = self.readiness()
            return (200 if ready else 503), _json(details), "application/json"
        return 404, b"not found\n", "text/plain"

    async def _send(
        self,
        connection: h11.Connection,
        stream: anyio.abc.ByteStream,
        status: int,
        body: bytes,
        content_type: str,
    ) -> None:
        headers = [
            ("content-type", content_type),
            ("content-length", str(len(body))),
            ("cache-control", "no-store"),
        ]
        data = connection.send(h11.Response(status_code=status, headers=headers)) or b""
        data += connection.send(h11.Data(data=body)) or b""
        data += connection.send(h11.EndOfMessage()) or b""
        await stream.send(data)


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True).encode() + b"\n"


@asynccontextmanager
async def operations_endpoint(
    bot: MetricsSource, *, listen: str | None, name: str, metrics: Metrics | None = None
) -> AsyncIterator[OpsServer | None]:
    """Serve the operations endpoint for ``bot`` while the block runs, if ``listen`` is set.

    ``listen`` is ``[server] listen`` (``HOST:PORT``; port 0 picks a free one); None yields
    None and serves nothing. ``name`` is the bot's label in every metric.
    """
    if listen is None:
        yield None
        return
    metrics = metrics or Metrics()
    observer = metrics.add_bot(name, bot)
    if hasattr(bot, "observer"):
        bot.observer = observer  # the moments a histogram needs (reply latency, typing)
    host, port = parse_listen(listen)
    server = OpsServer(metrics, host=host, port=port)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()
