"""AgentClient: one Smartsupp agent session that survives lost links.

The client owns the socket and the clock; the sans-IO :mod:`agentbot.protocol` owns framing
and heartbeats; :mod:`agentbot.api` owns the vocabulary. One task reads the socket and
drives the protocol (so frames are handled in arrival order, and a slow consumer of
:meth:`AgentClient.events` is backpressure on the socket), one task runs heartbeats, and a
supervisor reconnects with backoff. Rules implemented here come from PROTOCOL.md §1-§3:
``agent.connect`` is the first request of every connection, ``agent.track_visitors`` is per
connection and re-applied after it, ``logout`` and ``auth_failure`` are final.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from httpx_ws import WebSocketUpgradeError, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from agentbot.__about__ import __version__
from agentbot.api import (
    AgentConnect,
    AgentLogout,
    Logout,
    MalformedEvent,
    Request,
    TrackVisitors,
    decode_events,
    decode_reply,
    encode_request,
)
from agentbot.client.backoff import Backoff, ReconnectPolicy
from agentbot.client.events import ConnectionDropped, Reconnected
from agentbot.client.rest import shared_ssl_context
from agentbot.client.websocket import DEFAULT_MAX_FRAME_BYTES, FrameSession, LinkClosed
from agentbot.errors import (
    AgentbotError,
    ApiError,
    AuthFailure,
    ConnectionLost,
    LinkChanged,
    LocalProtocolError,
    ProtocolError,
    RequestTimeout,
)
from agentbot.protocol import (
    Ack,
    ClientConnection,
    Closed,
    Connected,
    ConnectionState,
    ConnectRefused,
    Disconnected,
    ErrorPacket,
    Event,
    Opened,
    ProtocolVersion,
)

__all__ = ["DEFAULT_EVENT_BUFFER", "DEFAULT_URL", "AgentClient", "EventStream"]

logger = logging.getLogger("agentbot.client")

DEFAULT_URL = "https://websocket.smartsupp.com"
DEFAULT_PATH = "/socket"
DEFAULT_EVENT_BUFFER = 256
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
_CLOSE_TIMEOUT_SECONDS = 1.0
_CHECKPOINT_EVERY = 64

ClientEvent = Any  # an agentbot.api server event, Reconnected or ConnectionDropped


class EventStream:
    """The client's event iterator: a plain object, so breaking out of it leaves nothing
    to finalize (unlike an async generator)."""

    __slots__ = ("_recv", "_since_checkpoint")

    def __init__(self, recv: MemoryObjectReceiveStream[ClientEvent]) -> None:
        self._recv = recv
        self._since_checkpoint = 0

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ClientEvent:
        # Fast path: take a buffered event without a trip through the event loop, but still
        # checkpoint every so often so a busy consumer stays cancellable.
        try:
            self._since_checkpoint += 1
            if self._since_checkpoint >= _CHECKPOINT_EVERY:
                self._since_checkpoint = 0
                await anyio.lowlevel.checkpoint()
            return self._recv.receive_nowait()
        except anyio.WouldBlock:
            pass
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        try:
            return await self._recv.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def next(self, *, timeout: float | None = None) -> ClientEvent:
        """Return the next event, or raise ``TimeoutError`` after ``timeout`` seconds."""
        with anyio.fail_after(timeout):
            return await self.__anext__()


class _Waiter:
    """One acked request waiting for its reply (or for its link to die)."""

    __slots__ = ("args", "done", "error")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.args: tuple[Any, ...] = ()
        self.error: AgentbotError | None = None


class _Link:
    """One WebSocket plus its protocol connection, from open to drop."""

    def __init__(self, generation: int, version: ProtocolVersion) -> None:
        self.generation = generation
        self.conn = ClientConnection(version)
        self.ws: FrameSession | None = None
        self.scope: anyio.CancelScope | None = None
        self.heartbeat_scope: anyio.CancelScope | None = None
        self.waiters: dict[int, _Waiter] = {}
        self.login_ack: int | None = None
        self.ready = False
        self.up_since: float | None = None
        self.drop_reason: str | None = None
        self.final: str | None = None  # set when this drop must stop the client for good
        self.fatal: BaseException | None = None
        self.login_failure = "connection"  # why no session came, if none did (see below)
        self.established = anyio.Event()
        self.wake_writer = anyio.Event()

    def kick(self) -> None:
        """Ask the writer task to flush what the protocol queued (frames coalesce)."""
        self.wake_writer.set()

    def drop(self, reason: str, *, final: str | None = None) -> None:
        if self.drop_reason is None:
            self.drop_reason = reason
        if final is not None and self.final is None:
            self.final = final
        self.ready = False
        if self.scope is not None:
            self.scope.cancel()


class AgentClient:
    """A Smartsupp agent connection: login, typed events, requests, reconnects.

    Use it as an async context manager::

        async with AgentClient(url, agent_id="345111", key=KEY, auth_token=TOKEN) as client:
            print(client.session.agent.nickname)
            async for event in client.events():
                ...

    Entering connects and logs in (``agent.connect``, PROTOCOL.md §2); a wrong key raises
    :class:`~agentbot.errors.AuthFailure` there and is never retried. The first link failing
    for any other reason raises :class:`~agentbot.errors.ConnectionLost`. After that, lost
    links are re-established on their own with backoff (``reconnect``); every new session
    sends ``agent.connect`` first and then the wanted ``agent.track_visitors``, and only then
    emits :class:`Reconnected` and lets waiting requests through.

    Bounds: at most ``event_buffer`` decoded events wait for the consumer; when the buffer is
    full the client stops reading the socket (backpressure), so memory stays bounded by
    ``event_buffer`` events plus one socket read (64 KiB). A consumer that stalls longer
    than the server's ping timeout will lose the link and get it back by reconnecting. A
    message over ``max_frame_bytes`` (default 1 MiB) closes the link with code 1009 ("message
    too big") as soon as its header arrives, and the client reconnects.

    Transport: ``http_client`` is an ``httpx.AsyncClient`` to connect through (TLS settings,
    proxies, extra ``headers``); ``asgi_app`` runs the connection in-process against an ASGI
    app (the sandbox) instead of a socket, which is what fast tests use.

    Requests already written to a socket are never written again: when a link drops, the
    requests waiting on it fail with :class:`~agentbot.errors.ConnectionLost`. Requests made
    while no link is up wait for the next session, within their timeout.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        agent_id: str,
        key: str,
        auth_token: str | None = None,
        legacy_auth_token: str | None = None,
        device_type: str | None = None,
        device_token: str | None = None,
        device_platform: str | None = None,
        bundle_version: str | None = None,
        eio: int = 3,
        path: str = DEFAULT_PATH,
        track_visitors: bool = False,
        http_client: httpx.AsyncClient | None = None,
        asgi_app: Any = None,
        headers: dict[str, str] | None = None,
        reconnect: ReconnectPolicy | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS,
        event_buffer: int = DEFAULT_EVENT_BUFFER,
        rng: random.Random | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        if event_buffer < 1:
            raise ValueError("event_buffer must be at least 1")
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be at least 1")
        self.max_frame_bytes = max_frame_bytes
        self.url = url
        self.agent_id = str(agent_id)
        self.version = ProtocolVersion.from_eio(eio)
        self.path = path
        self._key = key
        self._auth_token = auth_token
        self._legacy_auth_token = legacy_auth_token
        self._device_type = device_type
        self._device_token = device_token
        self._device_platform = device_platform
        self._bundle_version = bundle_version or f"agentbot/{__version__}"
        self._track_visitors = track_visitors
        self._http_client = http_client
        self._asgi_app = asgi_app
        self._headers = dict(headers or {})
        self.reconnect_policy = reconnect or ReconnectPolicy()
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._event_buffer = event_buffer
        self._rng = rng or random.Random()

        self.session: Any = None
        self.closed_reason: str | None = None
        self.on_login_failure: Callable[[str], None] | None = None
        """Called with a reason (``auth_failure``, ``timeout``, ``refused``, ``connection``)
        each time a link ends without a session, at the first login or a reconnect; the
        runtime counts these (``agentbot_login_failures_total``)."""
        self._link: _Link | None = None
        self._generation = 0
        self._state_changed = anyio.Event()
        self._write_lock = anyio.Lock()
        self._entered = False
        self._supervisor_scope: anyio.CancelScope | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._events_send: MemoryObjectSendStream[ClientEvent] | None = None
        self._events_recv: MemoryObjectReceiveStream[ClientEvent] | None = None
        self._closing = False
        self._supervisor_done = anyio.Event()

    def __repr__(self) -> str:
        state = "closed" if self.closed_reason else ("up" if self.connected else "down")
        return (
            f"<AgentClient url={self.url!r} agent_id={self.agent_id!r} "
            f"eio={self.version.engineio} {state}>"
        )

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> AgentClient:
        # The task group holds only the supervisor, which runs in a cancel scope of its own:
        # close() cancels that scope, never the group's, so the caller's code inside
        # ``async with`` is never cancelled by the client.
        if self._entered:
            raise RuntimeError("an AgentClient can only be entered once")
        self._entered = True
        send, recv = anyio.create_memory_object_stream[ClientEvent](self._event_buffer)
        self._events_send, self._events_recv = send, recv
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            await tg.start(self._supervise)
        except BaseException:
            self._closing = True
            if self._supervisor_scope is not None:
                self._supervisor_scope.cancel()
            self._tg = None
            try:
                await tg.__aexit__(None, None, None)
            finally:
                await self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.close()
        finally:
            tg, self._tg = self._tg, None
            try:
                if tg is not None:
                    # The body's own exception is the caller's, not the group's: passing it in
                    # would wrap it in an ExceptionGroup.
                    await tg.__aexit__(None, None, None)
            finally:
                await self._release()

    async def _release(self) -> None:
        """Close the event streams __aenter__ opened; never raises."""
        if self._events_send is not None:
            self._events_send.close()
        if self._events_recv is not None:
            self._events_recv.close()

    async def close(self) -> None:
        """Disconnect cleanly and stop: Socket.IO disconnect, Engine.IO close, WebSocket close.

        Requests still waiting fail with :class:`~agentbot.errors.ConnectionLost`; the
        :meth:`events` iterator ends. Prompt (bounded by a one-second goodbye) and safe to
        call more than once, from any task.
        """
        if self._closing and self._supervisor_done.is_set():
            return
        self._closing = True
        if self.closed_reason is None:
            self.closed_reason = "closed"
        link = self._link
        with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_TIMEOUT_SECONDS):
            if link is not None and link.ws is not None and link.drop_reason is None:
                try:
                    if link.conn.state is not ConnectionState.CLOSED:
                        link.conn.disconnect()
                    await self._flush(link)
                except (ProtocolError, LinkClosed):
                    pass
                await link.ws.close_quietly()
        if link is not None:
            link.drop("client closed", final=self.closed_reason)
            self._fail_waiters(link, "the client was closed")
        self._notify_state()
        self._stop_events()
        if self._supervisor_scope is not None:
            self._supervisor_scope.cancel()
        if self._tg is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_TIMEOUT_SECONDS):
                await self._supervisor_done.wait()

    @property
    def connected(self) -> bool:
        """Whether a logged-in session is up right now."""
        link = self._link
        return link is not None and link.ready

    @property
    def track_visitors(self) -> bool:
        """The wanted ``agent.track_visitors`` value, applied to every connection."""
        return self._track_visitors

    def set_track_visitors(self, enabled: bool) -> None:
        """Want visitor tracking on or off: applied now if connected, and on every reconnect."""
        self._track_visitors = bool(enabled)
        link = self._link
        if link is not None and link.ready and self._tg is not None:
            name, args = encode_request(TrackVisitors(enabled=self._track_visitors))
            link.conn.send_event(name, *args)
            link.kick()

    # ---------------------------------------------------------------- consuming

    def events(self) -> EventStream:
        """Iterate over server events (typed, ``bulk`` unpacked) plus :class:`Reconnected`
        and :class:`ConnectionDropped`, until the client stops for good (``closed_reason``
        then says why). One stream per client: events go to whichever iterator asks first.
        """
        recv = self._events_recv
        if recv is None:
            raise RuntimeError("enter the client (async with) before iterating its events")
        return EventStream(recv)

    # ---------------------------------------------------------------- requests

    async def request(
        self, req: Request, *, timeout: float | None = None, on_link: int | None = None
    ) -> Any:
        """Send an acked request and return its typed reply.

        Raises the request's :class:`~agentbot.errors.ApiError` subclass when the server
        answers with an error, :class:`~agentbot.errors.RequestTimeout` when no reply comes
        within ``timeout`` (default ``request_timeout``; the time spent waiting for a link
        counts), and :class:`~agentbot.errors.ConnectionLost` when the link carrying it
        drops. A request is never sent twice. With ``on_link`` (a :attr:`link_generation`) it
        goes out on that link or not at all (:class:`~agentbot.errors.LinkChanged`): a message
        must leave on the connection its typing indicator was shown on.
        """
        if not req.expects_ack:
            raise LocalProtocolError(f"{req.name} has no reply: use send()")
        limit = self._request_timeout if timeout is None else timeout
        name, args = encode_request(req)
        waiter = _Waiter()
        link: _Link | None = None
        ack_id: int | None = None
        try:
            with anyio.fail_after(limit):
                link = await self._wait_link()
                if on_link is not None and link.generation != on_link:
                    raise LinkChanged(
                        f"{name} not sent: link {on_link} is gone (now {link.generation})",
                        event=name,
                    )
                ack_id = link.conn.send_event(name, *args, ack=True)
                assert ack_id is not None
                link.waiters[ack_id] = waiter
                link.kick()
                await waiter.done.wait()
        except TimeoutError:
            if link is not None and ack_id is not None and link.drop_reason is None:
                link.conn.cancel_ack(ack_id)
            raise RequestTimeout(
                f"no reply to {name} within {limit:g} s", event=name, timeout=limit
            ) from None
        except LinkClosed as exc:
            raise ConnectionLost(
                f"link lost while sending {name}: {exc.reason}", event=name
            ) from None
        finally:
            if link is not None and ack_id is not None:
                link.waiters.pop(ack_id, None)
        if waiter.error is not None:
            raise waiter.error
        return decode_reply(req, waiter.args)

    async def send(self, req: Request) -> None:
        """Send a request that has no reply (``agent.track_visitors``, ``chat.typing``).

        Waits for a session up to ``request_timeout`` when the link is down, then raises
        :class:`~agentbot.errors.RequestTimeout`. The frame is queued on the live link and
        written by its writer task, in order with every other request; if that link drops
        before the write, the frame is discarded, never replayed on the next link.
        """
        name, args = encode_request(req)
        try:
            with anyio.fail_after(self._request_timeout):
                link = await self._wait_link()
        except TimeoutError:
            raise RequestTimeout(
                f"no session to send {name} within {self._request_timeout:g} s", event=name
            ) from None
        link.conn.send_event(name, *args)
        link.kick()
        await anyio.lowlevel.checkpoint()

    @property
    def link_generation(self) -> int | None:
        """The number of the live, logged-in link (1 for the first, +1 per reconnect), or None.

        Requests go out on this link now: typing shown on an older one is gone with it.
        """
        link = self._link
        return link.generation if link is not None and link.ready else None

    async def flush(self) -> None:
        """Write every queued frame to the socket now; return once written.

        For ordering across transports: ``chat.typing`` true must reach the server before a
        message posted over REST right after it. At once when no link is up.
        """
        link = self._link
        if link is None or not link.ready:
            return
        try:
            await self._flush(link)
        except LinkClosed as exc:
            link.drop(exc.reason)

    async def logout(
        self, *, device_token: str | None = None, device_platform: str | None = None
    ) -> None:
        """Send ``agent.logout`` (releasing device tokens, PROTOCOL.md §2), then close.

        Raises :class:`~agentbot.errors.NotFound` when the server does not know the agent;
        the client is closed either way.
        """
        try:
            await self.request(
                AgentLogout(device_token=device_token, device_platform=device_platform)
            )
        finally:
            self.closed_reason = self.closed_reason or "logout"
            await self.close()

    # ---------------------------------------------------------------- internals

    def _notify_state(self) -> None:
        self._state_changed.set()
        self._state_changed = anyio.Event()

    async def _wait_link(self) -> _Link:
        while True:
            if self._closing or self.closed_reason is not None:
                raise ConnectionLost(f"the client is closed ({self.closed_reason or 'closing'})")
            link = self._link
            if link is not None and link.ready:
                return link
            await self._state_changed.wait()

    async def _flush(self, link: _Link) -> None:
        # Drain under the lock so frames reach the socket in the order they were queued.
        async with self._write_lock:
            frames = link.conn.data_to_send()
            if frames and link.ws is not None:
                await link.ws.send_texts(frames)

    async def _writer_loop(self, link: _Link) -> None:
        # The one task that writes while the link runs: whatever requests queued since its
        # last write goes out in one WebSocket write (100 requests in flight: ~1 syscall).
        while True:
            await link.wake_writer.wait()
            link.wake_writer = anyio.Event()
            try:
                await self._flush(link)
            except LinkClosed as exc:
                link.drop(exc.reason)
                return

    async def _emit(self, event: ClientEvent) -> None:
        send = self._events_send
        if send is None:
            return
        # Nobody listens any more once the client is closing: drop quietly.
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            try:
                send.send_nowait(event)  # no event-loop round trip while there is room
            except anyio.WouldBlock:
                await send.send(event)  # full: wait, and stop reading the socket meanwhile

    def _fail_waiters(self, link: _Link, reason: str) -> None:
        for ack_id, waiter in list(link.waiters.items()):
            if not waiter.done.is_set():
                waiter.error = ConnectionLost(f"{reason}; request {ack_id} was not answered")
                waiter.done.set()

    def _socket_url(self) -> str:
        base = self.url.rstrip("/")
        if base.startswith("wss://"):
            base = "https://" + base[len("wss://") :]
        elif base.startswith("ws://"):
            base = "http://" + base[len("ws://") :]
        path = "/" + self.path.strip("/") if self.path.strip("/") else ""
        return f"{base}{path}/?EIO={self.version.engineio}&transport=websocket"

    def _login_request(self) -> AgentConnect:
        return AgentConnect(
            id=self.agent_id,
            key=self._key,
            auth_token=self._auth_token,
            authtoken=self._legacy_auth_token,
            device_type=self._device_type,
            device_token=self._device_token,
            device_platform=self._device_platform,
            track_visitors=self._track_visitors,
            bundle_version=self._bundle_version,
        )

    async def _supervise(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        # Shielded: only close() (through _supervisor_scope) stops the supervisor, so it
        # always winds down in order (goodbye, then its HTTP client) instead of being torn
        # through by a cancellation from the caller's side. __aexit__ always calls close().
        try:
            with anyio.CancelScope(shield=True):
                if self._http_client is not None:
                    await self._supervise_until_closed(task_status)
                    return
                # Our own HTTP client lives in this task, so nothing but the task group is
                # ever entered in the caller's task (and its cancel scopes stay in order).
                transport = None
                if self._asgi_app is not None:
                    # In-process: the WebSocket runs against the ASGI app, no socket at all.
                    transport = ASGIWebSocketTransport(app=self._asgi_app)
                # One TLS context for the process: its own would cost 0.8 MB and 18 ms.
                verify = shared_ssl_context()
                async with httpx.AsyncClient(transport=transport, verify=verify) as http:
                    self._http_client = http
                    try:
                        await self._supervise_until_closed(task_status)
                    finally:
                        self._http_client = None
        finally:
            self._supervisor_done.set()

    async def _supervise_until_closed(self, task_status: anyio.abc.TaskStatus[None]) -> None:
        with anyio.CancelScope() as scope:
            self._supervisor_scope = scope
            if self._closing:
                scope.cancel()
            await self._supervise_links(task_status)

    async def _supervise_links(self, task_status: anyio.abc.TaskStatus[None]) -> None:
        self._task_status: anyio.abc.TaskStatus[None] | None = task_status
        backoff = Backoff(self.reconnect_policy, rng=self._rng)
        first = True
        down_since: float | None = None
        while not self._closing:
            self._generation += 1
            link = _Link(self._generation, self.version)
            self._link = link
            await self._run_link(
                link, first=first, down_since=down_since, attempts=backoff.attempt + 1
            )
            if link.up_since is not None:
                backoff.link_lasted(anyio.current_time() - link.up_since)
            elif not self._closing and self.on_login_failure is not None:
                self.on_login_failure(link.login_failure)
            self._fail_waiters(link, f"connection lost ({link.drop_reason})")
            self._notify_state()
            if first and not link.established.is_set():
                if isinstance(link.fatal, AuthFailure):
                    self.closed_reason = "auth_failure"
                    raise link.fatal
                raise ConnectionLost(
                    f"could not connect to {self.url}: {link.drop_reason or 'unknown error'}"
                )
            if first:
                first = False
            if self._closing:
                return
            if link.final is not None:
                self.closed_reason = link.final
                logger.warning("agent %s: stopping for good: %s", self.agent_id, link.drop_reason)
                self._stop_events()
                return
            if link.up_since is not None:
                down_since = anyio.current_time()
                await self._emit(ConnectionDropped(reason=link.drop_reason or "unknown"))
            if not self.reconnect_policy.enabled or backoff.exhausted():
                self.closed_reason = "gave up reconnecting"
                logger.error(
                    "agent %s: giving up after %d attempts: %s",
                    self.agent_id,
                    backoff.attempt,
                    link.drop_reason,
                )
                self._stop_events()
                return
            delay = backoff.next_delay()
            logger.warning(
                "agent %s: link lost (%s); reconnecting in %.2f s (attempt %d)",
                self.agent_id,
                link.drop_reason,
                delay,
                backoff.attempt,
            )
            await anyio.sleep(delay)

    def _stop_events(self) -> None:
        if self._events_send is not None:
            self._events_send.close()

    async def _run_link(
        self, link: _Link, *, first: bool, down_since: float | None, attempts: int
    ) -> None:
        """Open one WebSocket, log in, and pump it until it drops. Never raises."""
        assert self._http_client is not None
        url = self._socket_url()
        logger.info(
            "agent %s: connecting to %s (EIO %d)",
            self.agent_id,
            url.split("?")[0],
            self.version.engineio,
        )
        try:
            with anyio.CancelScope() as scope:
                link.scope = scope
                async with aconnect_ws(
                    url,
                    self._http_client,
                    session_class=FrameSession,
                    keepalive_ping_interval_seconds=None,  # Engine.IO's heartbeat owns liveness
                    keepalive_ping_timeout_seconds=None,
                    headers=dict(self._headers),
                    timeout=self._connect_timeout,
                ) as ws:
                    assert isinstance(ws, FrameSession)
                    ws.max_frame_bytes = self.max_frame_bytes
                    link.ws = ws
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._read_loop, link, first, down_since, attempts)
                        tg.start_soon(self._heartbeat_loop, link)
                        tg.start_soon(self._writer_loop, link)
                        tg.start_soon(self._login_watchdog, link)
        except WebSocketUpgradeError as exc:
            link.drop(f"WebSocket upgrade refused (HTTP {exc.response.status_code})")
        except (httpx.HTTPError, OSError, LinkClosed) as exc:
            link.drop(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        finally:
            link.ready = False
        if link.drop_reason is None:
            link.drop("connection ended")

    async def _login_watchdog(self, link: _Link) -> None:
        with anyio.move_on_after(self._connect_timeout):
            await link.established.wait()
            return
        if link.login_ack is not None:  # agent.connect went out; no answer came
            link.login_failure = "timeout"
        link.drop(f"no login reply within {self._connect_timeout:g} s")

    async def _heartbeat_loop(self, link: _Link) -> None:
        conn = link.conn
        while True:
            deadline = conn.next_deadline()
            with anyio.CancelScope(deadline=math.inf if deadline is None else deadline) as scope:
                link.heartbeat_scope = scope
                await anyio.sleep_forever()
            link.heartbeat_scope = None
            try:
                for event in conn.tick(anyio.current_time()):
                    if isinstance(event, Closed):
                        logger.warning("agent %s: %s", self.agent_id, event.reason)
                        link.drop(event.reason)
                        return
            except ProtocolError as exc:
                link.drop(f"protocol error: {exc}")
                return
            link.kick()

    def _reschedule_heartbeat(self, link: _Link) -> None:
        scope = link.heartbeat_scope
        if scope is not None:
            deadline = link.conn.next_deadline()
            scope.deadline = math.inf if deadline is None else deadline

    async def _read_loop(
        self, link: _Link, first: bool, down_since: float | None, attempts: int
    ) -> None:
        assert link.ws is not None
        conn = link.conn
        try:
            while True:
                texts = await link.ws.receive_texts()
                if conn.state is ConnectionState.CLOSED:
                    return  # we said goodbye (close()); what still arrives is moot
                now = anyio.current_time()
                for text in texts:
                    for event in conn.receive_text(text, now):
                        await self._on_protocol_event(link, event, first, down_since, attempts)
                link.kick()  # automatic replies (pong, namespace connect)
                self._reschedule_heartbeat(link)
        except LinkClosed as exc:
            link.drop(exc.reason)
        except ProtocolError as exc:
            logger.warning("agent %s: protocol error, dropping the link: %s", self.agent_id, exc)
            link.drop(f"protocol error: {exc}")

    async def _on_protocol_event(
        self, link: _Link, event: object, first: bool, down_since: float | None, attempts: int
    ) -> None:
        if isinstance(event, Event):
            items = decode_events(event.name, event.args)
            bad = [item for item in items if isinstance(item, MalformedEvent)]
            if bad:  # one line per received event, however many bulk items were bad
                more = f" (and {len(bad) - 1} more of {len(items)} items)" if len(bad) > 1 else ""
                logger.warning("agent %s: %s%s", self.agent_id, bad[0].error, more)
            for item in items:
                await self._emit(item)
                if isinstance(item, Logout):
                    link.drop("the server ended this session (logout)", final="logout")
            return
        if isinstance(event, Ack):
            if event.ack_id == link.login_ack:
                await self._on_login_reply(link, event.args, first, down_since, attempts)
                return
            waiter = link.waiters.get(event.ack_id)
            if waiter is not None:
                waiter.args = event.args
                waiter.done.set()
            return
        if isinstance(event, Connected):
            name, args = encode_request(self._login_request())
            link.login_ack = link.conn.send_event(name, *args, ack=True)
            return
        if isinstance(event, Opened):
            logger.debug("agent %s: engine.io open, sid %s", self.agent_id, event.sid)
            return
        if isinstance(event, ConnectRefused):
            link.drop(f"namespace connect refused: {event.message}")
            return
        if isinstance(event, Disconnected):
            link.drop(f"server disconnected the socket ({event.reason})")
            return
        if isinstance(event, Closed):
            link.drop(event.reason)
            return
        if isinstance(event, ErrorPacket):
            logger.warning("agent %s: Socket.IO error packet: %r", self.agent_id, event.data)

    async def _on_login_reply(
        self,
        link: _Link,
        args: tuple[Any, ...],
        first: bool,
        down_since: float | None,
        attempts: int,
    ) -> None:
        try:
            session = decode_reply(self._login_request(), args)
        except AuthFailure as exc:
            logger.error("agent %s: login refused: %s", self.agent_id, exc.message)
            link.fatal = exc
            link.login_failure = "auth_failure"
            link.drop(f"login refused: {exc.message}", final="auth_failure")
            return
        except ApiError as exc:
            link.login_failure = "refused"
            link.drop(f"login failed: {exc}")
            return
        except AgentbotError as exc:
            link.login_failure = "refused"
            link.drop(f"login reply unreadable: {exc}")
            return
        self.session = session
        # PROTOCOL.md §2: track_visitors is per connection; re-apply before anything else.
        name, args_ = encode_request(TrackVisitors(enabled=self._track_visitors))
        link.conn.send_event(name, *args_)
        await self._flush(link)
        link.up_since = anyio.current_time()
        logger.info(
            "agent %s: logged in (EIO %d, track_visitors=%s)",
            self.agent_id,
            self.version.engineio,
            self._track_visitors,
        )
        if first:
            if self._task_status is not None:
                self._task_status.started()
                self._task_status = None
        else:
            downtime = 0.0 if down_since is None else link.up_since - down_since
            await self._emit(
                Reconnected(attempt=attempts, downtime_seconds=downtime, session=session)
            )
        link.ready = True
        link.established.set()
        self._notify_state()
