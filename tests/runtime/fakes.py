"""A tiny in-memory stand-in for AgentClient, and builders for the events a server sends.

The fake records every request in order (``wire``), answers ``chat.message`` with a stored
message and, like the real server, echoes it back as ``chat.message_received`` (subType
``agent``). Tests wait on its ``changed`` event, never on time.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio

from agentbot.api import (
    Account,
    AccountAgent,
    Agent,
    AgentConnectReply,
    AgentJoined,
    Chat,
    ChatClosed,
    ChatMessage,
    ChatMessageReceived,
    ChatOpened,
    ChatTyping,
    Content,
    Message,
    Request,
    TrackVisitors,
    Visitor,
    VisitorGet,
)
from agentbot.errors import ConnectionLost, NotFound

BOT_ID = "bot-1"
HUMAN_ID = "human-7"


def make_session(agent_id: str = BOT_ID, *, humans_online: bool = False) -> AgentConnectReply:
    return AgentConnectReply(
        server_version=3,
        agent=Agent(id=agent_id, status="online"),
        account=Account(
            agents=(
                AccountAgent(id=agent_id, status="online", nickname="bot"),
                AccountAgent(
                    id=HUMAN_ID, status="online" if humans_online else "offline", nickname="Ann"
                ),
            ),
            groups=(),
        ),
    )


_ids = itertools.count(1)


def visitor_message(
    chat_id: str = "c1",
    text: str = "hello",
    *,
    message_id: str | None = None,
    visitor_id: str = "v1",
) -> ChatMessageReceived:
    return ChatMessageReceived(
        chat_id=chat_id,
        message=Message(
            id=message_id or f"vm-{next(_ids)}",
            type="message",
            sub_type="contact",
            chat_id=chat_id,
            visitor_id=visitor_id,
            content=Content(type="text", text=text),
        ),
    )


def agent_message(
    chat_id: str, text: str, *, agent_id: str, visitor_id: str = "v1"
) -> ChatMessageReceived:
    return ChatMessageReceived(
        chat_id=chat_id,
        message=Message(
            id=f"am-{next(_ids)}",
            type="message",
            sub_type="agent",
            chat_id=chat_id,
            visitor_id=visitor_id,
            agent_id=agent_id,
            content=Content(type="text", text=text),
        ),
    )


def chat_opened(
    chat_id: str = "c1", *, visitor_id: str = "v1", assigned: tuple[str, ...] = ()
) -> ChatOpened:
    return ChatOpened(
        chat_id=chat_id,
        chat=Chat(id=chat_id, visitor_id=visitor_id, status="pending", assigned_ids=assigned),
    )


def agent_joined(chat_id: str = "c1", agent_id: str = HUMAN_ID) -> AgentJoined:
    return AgentJoined(chat_id=chat_id, agent=Agent(id=agent_id, status="online"))


def chat_closed(chat_id: str = "c1") -> ChatClosed:
    return ChatClosed(chat_id=chat_id, close_type="visitor_close")


def describe(request: Request) -> tuple[Any, ...]:
    """A compact, comparable form of a request: ("typing", chat, bool) / ("message", chat, text)."""
    if isinstance(request, ChatTyping):
        return ("typing", request.chat_id, request.is_typing)
    if isinstance(request, ChatMessage):
        return ("message", request.chat_id, request.text)
    if isinstance(request, TrackVisitors):
        return ("track_visitors", request.enabled)
    if isinstance(request, VisitorGet):
        return ("visitor_get", request.id)
    return (type(request).__name__,)


class FakeClient:
    """Records the Bot's requests; lets a test feed events and end the stream."""

    def __init__(self, *, session: AgentConnectReply | None = None, echo: bool = True) -> None:
        self.session: Any = session or make_session()
        self.closed_reason: str | None = None
        self.wire: list[Request] = []
        self.track_visitors_calls: list[bool] = []
        self.echo = echo
        self.fail_messages = False
        self.visitors: dict[str, Visitor] = {}
        """What ``visitor.get`` answers; an unknown id gets ``NotFound``."""
        self.hold_visitor_get: anyio.Event | None = None
        """When set, ``visitor.get`` waits for this event before answering."""
        self.entered = 0
        self.closed = False
        self.changed = anyio.Event()
        self._send, self._recv = anyio.create_memory_object_stream[Any](1000)
        self._message_ids = itertools.count(1)

    # the AgentClient interface -----------------------------------------------------------

    async def __aenter__(self) -> FakeClient:
        self.entered += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def events(self) -> AsyncIterator[Any]:
        async with self._recv:
            async for event in self._recv:
                yield event

    async def request(
        self, req: Request, *, timeout: float | None = None, on_link: int | None = None
    ) -> Any:
        self._record(req)
        await anyio.lowlevel.checkpoint()
        if isinstance(req, ChatMessage):
            if self.fail_messages:
                raise ConnectionLost("link dropped", event="chat.message")
            stored = Message(
                id=f"bm-{next(self._message_ids)}",
                type="message",
                sub_type="agent",
                chat_id=req.chat_id,
                visitor_id=req.visitor_id,
                agent_id=self.session.agent.id,
                content=Content(type="text", text=req.text),
            )
            if self.echo:
                self._send.send_nowait(ChatMessageReceived(chat_id=req.chat_id, message=stored))
            return stored
        if isinstance(req, VisitorGet):
            if self.hold_visitor_get is not None:
                await self.hold_visitor_get.wait()
            visitor = self.visitors.get(req.id)
            if visitor is None:
                raise NotFound("Visitor not found", type="not_found", event="visitor.get")
            return visitor
        return None

    async def send(self, req: Request) -> None:
        self._record(req)
        await anyio.lowlevel.checkpoint()

    async def flush(self) -> None:
        await anyio.lowlevel.checkpoint()

    def set_track_visitors(self, enabled: bool) -> None:
        self.track_visitors_calls.append(enabled)

    async def close(self) -> None:
        self.closed = True
        self._send.close()
        self._notify()

    # test controls -------------------------------------------------------------------------

    def factory(self) -> Callable[[], FakeClient]:
        return lambda: self

    async def feed(self, *events: Any) -> None:
        for event in events:
            await self._send.send(event)

    def end(self, reason: str = "logout") -> None:
        self.closed_reason = reason
        self._send.close()

    @property
    def calls(self) -> list[tuple[Any, ...]]:
        return [describe(request) for request in self.wire]

    def messages(self, chat_id: str | None = None) -> list[str]:
        return [
            r.text for r in self.wire if isinstance(r, ChatMessage) and chat_id in (None, r.chat_id)
        ]

    async def wait_for(self, predicate: Callable[[list[tuple[Any, ...]]], bool]) -> None:
        """Wait until ``predicate(calls)`` holds (bounded, so a broken bot fails fast)."""
        with anyio.fail_after(10):
            while not predicate(self.calls):
                changed = self.changed
                await changed.wait()

    async def wait_calls(self, count: int) -> None:
        await self.wait_for(lambda calls: len(calls) >= count)

    def _record(self, req: Request) -> None:
        self.wire.append(req)
        self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()
