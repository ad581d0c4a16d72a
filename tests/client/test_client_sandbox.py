"""AgentClient against the sandbox, in-process (ASGI), on asyncio and trio, EIO 3 and 4."""

from __future__ import annotations

import json
import random
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from agentbot.api import ChatMessage, ChatMessageReceived, ChatOpened, ChatTyping, ServerErrorEvent
from agentbot.client import AgentClient, ConnectionDropped, Reconnected, ReconnectPolicy
from agentbot.errors import LinkChanged, RequestTimeout
from agentbot.sandbox import SandboxConfig, create_app

FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)


@pytest.fixture(params=[3, 4], ids=["eio3", "eio4"])
def eio(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def app() -> Any:
    return create_app(SandboxConfig())


def client_for(app: Any, eio: int, **options: Any) -> AgentClient:
    config = app.state.sandbox.config
    options.setdefault("reconnect", FAST_RECONNECT)
    return AgentClient(
        "http://sandbox",
        agent_id=config.bot.id,
        key=config.account_key,
        auth_token=config.bot.auth_token,
        eio=eio,
        asgi_app=app,
        **options,
    )


async def test_visitor_message_reaches_the_bot_and_its_reply_reaches_the_chat(
    app: Any, eio: int
) -> None:
    control = app.state.control
    async with client_for(app, eio) as client:
        visitor = control.create_visitor(name="Ada")["visitor"]
        control.visitor_message(visitor["id"], "Hello?")
        stream = client.events()
        opened = await stream.next(timeout=5)
        received = await stream.next(timeout=5)
        assert isinstance(opened, ChatOpened)
        assert isinstance(received, ChatMessageReceived)
        assert received.message.content.text == "Hello?"
        chat_id = received.chat_id
        await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor["id"], is_typing=True))
        stored = await client.request(
            ChatMessage(chat_id=chat_id, visitor_id=visitor["id"], text="Hi Ada!")
        )
        await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor["id"], is_typing=False))
        echo = await stream.next(timeout=5)
        assert isinstance(echo, ChatMessageReceived)
        assert echo.message.id == stored.id
        assert echo.message.agent_id == client.session.agent.id
    requests = control.agent_requests(app.state.sandbox.config.bot.id)["requests"]
    names = [r["name"] for r in requests]
    assert names == [
        "agent.connect",
        "agent.track_visitors",
        "chat.typing",
        "chat.message",
        "chat.typing",
    ]
    assert [r["args"][0]["typing"]["is"] for r in requests if r["name"] == "chat.typing"] == [
        True,
        False,
    ]


async def test_malformed_frame_drops_the_link_and_the_client_comes_back(app: Any, eio: int) -> None:
    control = app.state.control
    async with client_for(app, eio, track_visitors=True) as client:
        control.malformed(agent_id=app.state.sandbox.config.bot.id)
        stream = client.events()
        dropped = await stream.next(timeout=5)
        assert isinstance(dropped, ConnectionDropped)
        assert "protocol error" in dropped.reason
        assert isinstance(await stream.next(timeout=5), Reconnected)
        control.server_error(agent_id=app.state.sandbox.config.bot.id, message="still here?")
        assert isinstance(await stream.next(timeout=5), ServerErrorEvent)
    names = [r["name"] for r in control.agent_requests(app.state.sandbox.config.bot.id)["requests"]]
    assert names == ["agent.connect", "agent.track_visitors"] * 2


async def test_slow_consumer_gets_backpressure_not_unbounded_memory(app: Any, eio: int) -> None:
    control = app.state.control
    buffer = 8
    async with client_for(app, eio, event_buffer=buffer) as client:
        visitors = [control.create_visitor(name=f"v{i}")["visitor"] for i in range(30)]
        for v in visitors:
            control.visitor_message(v["id"], f"hello from {v['name']}")
        # Nobody reads: the client stops reading once its buffer is full.
        recv = client._events_recv
        assert recv is not None
        with anyio.fail_after(5):
            while recv.statistics().current_buffer_used < buffer:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        await anyio.sleep(0.05)
        assert recv.statistics().current_buffer_used == buffer
        texts = []
        with anyio.fail_after(10):
            async for event in client.events():
                if isinstance(event, ChatMessageReceived):
                    texts.append(event.message.content.text)
                    if len(texts) == len(visitors):
                        break
    assert texts == [f"hello from v{i}" for i in range(30)]


async def test_logout_fault_ends_the_client(app: Any, eio: int) -> None:
    control = app.state.control
    async with client_for(app, eio) as client:
        control.logout(agent_id=app.state.sandbox.config.bot.id)
        with anyio.fail_after(5):
            events = [event async for event in client.events()]
        assert type(events[-1]).__name__ == "Logout"
        assert client.closed_reason == "logout"


async def test_request_made_while_the_link_is_down_waits_for_the_next_session(
    app: Any, eio: int
) -> None:
    control = app.state.control
    bot = app.state.sandbox.config.bot.id
    slow = ReconnectPolicy(
        first_retry_min_seconds=0.3, first_retry_max_seconds=0.3, max_delay_seconds=0.3
    )
    async with client_for(app, eio, reconnect=slow) as client:
        visitor = control.create_visitor(name="Bo")["visitor"]
        control.visitor_message(visitor["id"], "hi")
        stream = client.events()
        chat_id = (await stream.next(timeout=5)).chat.id
        control.drop(agent_id=bot)
        while not isinstance(await stream.next(timeout=5), ConnectionDropped):
            pass
        assert not client.connected
        stored = await client.request(
            ChatMessage(chat_id=chat_id, visitor_id=visitor["id"], text="sorry, back now"),
            timeout=5,
        )
        assert stored.content.text == "sorry, back now"
    texts = [m["content"]["text"] for m in control.chat(chat_id)["chat"]["messages"]]
    assert texts.count("sorry, back now") == 1


async def test_request_waiting_for_a_session_times_out(app: Any, eio: int) -> None:
    control = app.state.control
    never = ReconnectPolicy(
        first_retry_min_seconds=30, first_retry_max_seconds=30, initial_delay_seconds=30
    )
    async with client_for(app, eio, reconnect=never) as client:
        control.drop(agent_id=app.state.sandbox.config.bot.id)
        stream = client.events()
        while not isinstance(await stream.next(timeout=5), ConnectionDropped):
            pass
        with pytest.raises(RequestTimeout):
            await client.request(ChatMessage(chat_id="c", visitor_id="v", text="x"), timeout=0.2)


async def test_an_error_inside_the_block_propagates_promptly(app: Any, eio: int) -> None:
    with anyio.fail_after(5), pytest.raises(KeyError):
        async with client_for(app, eio):
            raise KeyError("boom")


async def test_a_cancelled_owner_task_closes_the_client_promptly(app: Any, eio: int) -> None:
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            started = anyio.Event()

            async def consume() -> None:
                async with client_for(app, eio) as client:
                    started.set()
                    async for _ in client.events():
                        pass

            tg.start_soon(consume)
            await started.wait()
            tg.cancel_scope.cancel()


async def test_code_after_close_inside_the_block_is_not_cancelled(app: Any, eio: int) -> None:
    async with client_for(app, eio) as client:
        await client.close()
        await anyio.lowlevel.checkpoint()  # raises if close() had cancelled our scope
        assert client.closed_reason == "closed"
        assert [event async for event in client.events()] == []


class LowRandom(random.Random):
    """Records each jitter range the client asks for and draws its low end (no real wait)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return a


async def _drop_and_come_back(app: Any, client: AgentClient, times: int) -> None:
    stream = client.events()
    for _ in range(times):
        app.state.control.drop(agent_id=app.state.sandbox.config.bot.id)
        while not isinstance(await stream.next(timeout=5), ConnectionDropped):
            pass
        while not isinstance(await stream.next(timeout=5), Reconnected):
            pass


async def test_a_stable_link_that_drops_is_retried_at_once_every_time(app: Any, eio: int) -> None:
    # Issue 16, defect 5: links up for a while that drop once came back only after an
    # ever longer wait (p99 28 s), as only a minute-long link reset the count.
    rng = LowRandom()
    policy = ReconnectPolicy(stable_after_seconds=1e-9)  # every logged-in link counts as stable
    async with client_for(app, eio, reconnect=policy, rng=rng) as client:
        await _drop_and_come_back(app, client, 3)
    assert rng.ranges == [(0.1, 0.5)] * 3


async def test_links_that_log_in_and_die_fast_back_off_but_at_most_one_second(
    app: Any, eio: int
) -> None:
    # Each link logs in (the server is up) and is dropped young: a flapping network. The
    # delay grows, but stays under logged_in_max_delay_seconds (issue 16's flapping soak).
    rng = LowRandom()
    policy = ReconnectPolicy(stable_after_seconds=1e9)  # no link lives long enough
    async with client_for(app, eio, reconnect=policy, rng=rng) as client:
        await _drop_and_come_back(app, client, 4)
    assert rng.ranges == [(0.1, 0.5), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)]


async def test_a_frame_over_the_limit_closes_the_link_with_1009_and_it_comes_back(
    app: Any, eio: int
) -> None:
    # Issue 16, defect 7: the cap is configurable and says why the link closed.
    control = app.state.control
    limit = 64 * 1024
    async with client_for(app, eio, max_frame_bytes=limit) as client:
        stream = client.events()
        control.malformed(
            agent_id=app.state.sandbox.config.bot.id,
            frame='42["x",{"blob":"' + "a" * (limit + 1) + '"}]',
        )
        dropped = await stream.next(timeout=5)
        assert isinstance(dropped, ConnectionDropped)
        assert "message too big" in dropped.reason
        assert f"{limit}-byte" in dropped.reason
        assert "1009" in dropped.reason
        assert isinstance(await stream.next(timeout=5), Reconnected)


async def test_a_frame_at_the_limit_is_taken(app: Any, eio: int) -> None:
    control = app.state.control
    limit = 64 * 1024
    async with client_for(app, eio, max_frame_bytes=limit) as client:
        stream = client.events()
        frame = '42["x.y",{"blob":"' + "a" * (limit - 40) + '"}]'
        control.malformed(agent_id=app.state.sandbox.config.bot.id, frame=frame)
        event = await stream.next(timeout=5)
        assert type(event).__name__ == "UnknownEvent"


async def test_a_bulk_with_garbage_items_delivers_the_good_ones_and_logs_once(
    app: Any, eio: int, caplog: pytest.LogCaptureFixture
) -> None:
    control = app.state.control
    good = {"name": "chat.agent_unread", "data": {"chatId": "c1"}}
    bad = {"name": "chat.agent_unread", "data": {"chatId": 5}}
    items = [good, bad, "garbage", {"name": "bulk", "data": []}, good]
    async with client_for(app, eio) as client:
        stream = client.events()
        control.malformed(
            agent_id=app.state.sandbox.config.bot.id, frame="42" + json.dumps(["bulk", items])
        )
        got = [await stream.next(timeout=5) for _ in items]
    names = [type(event).__name__ for event in got]
    assert names == [
        "ChatAgentUnread",
        "MalformedEvent",
        "MalformedEvent",
        "MalformedEvent",
        "ChatAgentUnread",
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "and 2 more of 5 items" in warnings[0]


async def test_a_request_bound_to_a_link_that_is_gone_is_not_sent(app: Any, eio: int) -> None:
    # Issue 16, defect 2: a message must leave on the connection its typing was shown on; if
    # that link dropped meanwhile, nothing is written on the new one (the bot types again).
    async with client_for(app, eio) as client:
        old = client.link_generation
        assert old is not None
        await _drop_and_come_back(app, client, 1)
        assert client.link_generation == old + 1
        request = ChatMessage(chat_id="co-none", visitor_id="vi-none", text="late")
        with pytest.raises(LinkChanged):
            await client.request(request, on_link=old)
        sent = app.state.control.agent_requests(app.state.sandbox.config.bot.id)["requests"]
        assert not any(r["name"] == "chat.message" for r in sent)
