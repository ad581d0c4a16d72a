"""``bot.visitor(id)``: the runtime's bounded visitor cache, from events and ``visitor.get``.

The fake client answers ``visitor.get`` from its ``visitors`` dict (``NotFound`` otherwise)
and records each request; one test runs against the real sandbox through the harness.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from agentbot import PluginBot, PluginError, Visitor, hookimpl
from agentbot.api import VisitorConnected, VisitorUpdated
from agentbot.errors import ConnectionLost
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.visitors import (
    RETRY_AFTER_FAILURE_SECONDS,
    NotConnected,
    VisitorDirectory,
)

from .conftest import RunningBot
from .fakes import FakeClient, chat_opened


class Plain:
    """A plugin that implements no hook: the test calls its ``bot`` directly."""


def handle(bot: Any) -> PluginBot:
    result: PluginBot = bot.handle_for(bot.host.plugins[0])
    return result


def visitor_gets(client: FakeClient) -> list[tuple[Any, ...]]:
    return [call for call in client.calls if call[0] == "visitor_get"]


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


ADA = Visitor(id="v1", name="Ada", lang="en", visits=3)


async def test_visitor_from_visitor_connected_needs_no_request(running_bot: RunningBot) -> None:
    async with running_bot(Plain()) as (bot, client):
        await client.feed(VisitorConnected(visitor=ADA))
        await settle()
        assert await handle(bot).visitor("v1") == ADA
        assert visitor_gets(client) == []


async def test_visitor_updated_is_applied_to_a_known_visitor(running_bot: RunningBot) -> None:
    async with running_bot(Plain()) as (bot, client):
        await client.feed(
            VisitorConnected(visitor=ADA),
            VisitorUpdated(id="v1", changes={"pageUrl": "https://shop.test/cart", "lang": "cs"}),
        )
        await settle()
        found = await handle(bot).visitor("v1")
        assert found is not None
        assert (found.name, found.lang, found.page_url, found.visits) == (
            "Ada",
            "cs",
            "https://shop.test/cart",
            3,
        )
        assert visitor_gets(client) == []


async def test_a_miss_asks_the_server_once_and_caches_the_answer(running_bot: RunningBot) -> None:
    client = FakeClient()
    client.visitors["v1"] = ADA
    async with running_bot(Plain(), client=client) as (bot, client):
        assert await handle(bot).visitor("v1") == ADA
        assert await handle(bot).visitor("v1") == ADA
        assert visitor_gets(client) == [("visitor_get", "v1")]


async def test_an_update_of_an_unknown_visitor_is_not_cached_as_a_partial_record(
    running_bot: RunningBot,
) -> None:
    client = FakeClient()
    client.visitors["v1"] = ADA
    async with running_bot(Plain(), client=client) as (bot, client):
        await client.feed(VisitorUpdated(id="v1", changes={"pageUrl": "https://shop.test/"}))
        await settle()
        assert await handle(bot).visitor("v1") == ADA  # the full record, from the server
        assert visitor_gets(client) == [("visitor_get", "v1")]


async def test_an_update_that_does_not_fit_drops_the_stale_entry(running_bot: RunningBot) -> None:
    client = FakeClient()
    fresh = Visitor(id="v1", name="Ada Lovelace", visits=4)
    client.visitors["v1"] = fresh
    async with running_bot(Plain(), client=client) as (bot, client):
        await client.feed(
            VisitorConnected(visitor=ADA), VisitorUpdated(id="v1", changes={"visits": "many"})
        )
        await settle()
        assert await handle(bot).visitor("v1") == fresh
        assert visitor_gets(client) == [("visitor_get", "v1")]


async def test_plugins_asking_at_the_same_time_share_one_request(running_bot: RunningBot) -> None:
    client = FakeClient()
    client.visitors["v1"] = ADA
    hold = client.hold_visitor_get = anyio.Event()
    seen: list[Visitor | None] = []

    class Greeter:
        @hookimpl
        async def on_chat_opened(self, bot: PluginBot, chat: Any) -> None:
            seen.append(await bot.visitor(chat.visitor_id))

    async with running_bot(Greeter(), Greeter(), client=client) as (_bot, client):
        await client.feed(chat_opened("c1", visitor_id="v1"))
        await settle()
        assert seen == []  # both wait for the one request
        hold.set()
        await settle()
        assert seen == [ADA, ADA]
        assert visitor_gets(client) == [("visitor_get", "v1")]


async def test_an_unknown_visitor_gives_none_and_is_not_asked_again_for_a_while(
    running_bot: RunningBot,
) -> None:
    clock = VirtualClock()
    async with running_bot(Plain(), clock=clock) as (bot, client):
        assert await handle(bot).visitor("v404") is None
        assert await handle(bot).visitor("v404") is None
        assert visitor_gets(client) == [("visitor_get", "v404")]
        await clock.advance(RETRY_AFTER_FAILURE_SECONDS)
        client.visitors["v404"] = Visitor(id="v404", name="Late")
        found = await handle(bot).visitor("v404")
        assert found is not None
        assert found.name == "Late"
        assert len(visitor_gets(client)) == 2


async def test_visitor_connected_after_a_failed_lookup_is_used_at_once(
    running_bot: RunningBot,
) -> None:
    async with running_bot(Plain()) as (bot, client):
        assert await handle(bot).visitor("v1") is None
        await client.feed(VisitorConnected(visitor=ADA))
        await settle()
        assert await handle(bot).visitor("v1") == ADA


async def test_a_server_that_does_not_answer_gives_none_within_the_timeout(
    running_bot: RunningBot,
) -> None:
    client = FakeClient()
    hold = client.hold_visitor_get = anyio.Event()  # the server does not answer in time
    async with running_bot(Plain(), client=client) as (bot, client):
        bot.visitors.timeout_seconds = 0.01
        with anyio.fail_after(5):
            assert await handle(bot).visitor("v1") is None
        hold.set()


async def test_no_visitor_id_gives_none_and_a_wrong_type_is_a_plugin_error(
    running_bot: RunningBot,
) -> None:
    async with running_bot(Plain()) as (bot, client):
        assert await handle(bot).visitor(None) is None
        assert await handle(bot).visitor("") is None
        with pytest.raises(PluginError, match="visitor id"):
            await handle(bot).visitor(42)  # type: ignore[arg-type]
        assert visitor_gets(client) == []


# ---------------------------------------------------------------------------------------------
# The directory on its own
# ---------------------------------------------------------------------------------------------


async def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    async def fetch(visitor_id: str) -> Visitor:
        raise ConnectionLost("gone", event="visitor.get")

    directory = VisitorDirectory(fetch=fetch, clock=VirtualClock(), max_visitors=3)
    for index in range(3):
        directory.seen(Visitor(id=f"v{index}"))
    assert await directory.lookup("v0") is not None  # v0 is now the most recently used
    directory.seen(Visitor(id="v3"))
    assert len(directory) == 3
    assert directory.get_nowait("v1") is None
    assert [directory.get_nowait(f"v{i}") is not None for i in (0, 2, 3)] == [True] * 3


async def test_not_connected_is_not_remembered_as_a_failure() -> None:
    connected = False

    async def fetch(visitor_id: str) -> Visitor:
        if not connected:
            raise NotConnected("not connected")
        return Visitor(id=visitor_id, name="Ada")

    directory = VisitorDirectory(fetch=fetch, clock=VirtualClock())
    assert await directory.lookup("v1") is None
    connected = True
    found = await directory.lookup("v1")
    assert found is not None
    assert found.name == "Ada"


async def test_a_cancelled_lookup_lets_the_waiting_one_ask_again() -> None:
    release = anyio.Event()
    calls: list[str] = []

    async def fetch(visitor_id: str) -> Visitor:
        calls.append(visitor_id)
        if len(calls) == 1:
            await anyio.sleep_forever()
        await release.wait()
        return Visitor(id=visitor_id, name="Ada")

    directory = VisitorDirectory(fetch=fetch, clock=VirtualClock())
    results: list[Visitor | None] = []
    first = anyio.CancelScope()

    async def lookup(scope: anyio.CancelScope | None = None) -> None:
        with scope or anyio.CancelScope():
            results.append(await directory.lookup("v1"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(lookup, first)  # sends the request, which never answers
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(lookup)  # waits for the first one's answer
        await anyio.wait_all_tasks_blocked()
        assert calls == ["v1"]
        first.cancel()
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert calls == ["v1", "v1"]
    assert results == [Visitor(id="v1", name="Ada")]


async def test_visitor_lookup_against_the_sandbox_with_track_visitors_off(
    agentbot_harness: Any,
) -> None:
    seen: list[Visitor | None] = []

    class Greeter:
        @hookimpl
        async def on_chat_opened(self, bot: PluginBot, chat: Any) -> None:
            seen.append(await bot.visitor(chat.visitor_id))

    async with agentbot_harness(plugins={"greeter": Greeter()}) as harness:
        assert harness.bot.track_visitors is False
        visitor = await harness.visitor("Ada", lang="de", visits=2)
        await visitor.say("hello")
        await harness.settle()
        assert len(seen) == 1
        found = seen[0]
        assert found is not None
        assert (found.id, found.name, found.lang, found.visit_count) == (
            visitor.id,
            "Ada",
            "de",
            2,
        )
