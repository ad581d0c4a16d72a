"""The visitor side (PROTOCOL.md §4), frame by frame: connect, resume, the official SDK's
extra fields, presence events for tracking agents, and errors."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from .rawclient import control_of, raw_socket

TEXT = {"type": "text", "text": "hello"}


async def test_wrong_account_key_is_auth_failure(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as visitor:
        error, result = await visitor.request("visitor.connect", {"id": None, "key": "nope"})
    assert result is None
    assert error == {
        "message": "Account key is invalid",
        "event": "visitor.connect",
        "type": "auth_failure",
    }


async def test_visitor_request_before_connect_is_403(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as visitor:
        error, _ = await visitor.request("chat.close", None)
    assert (error["type"], error["code"]) == ("auth_error", 403)


async def test_resume_by_id_returns_the_open_chat(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as first:
        _, hello = await first.visitor_login(name="Vera")
        visitor_id = hello["visitor"]["id"]
        assert "chat" not in hello
        _, message = await first.request("chat.message", {"content": TEXT})
    async with raw_socket(client) as again:
        error, hello = await again.visitor_login(visitor_id, name="Vera")
    assert error is None
    assert hello["visitor"]["id"] == visitor_id
    assert hello["visitor"]["chatId"] == message["chatId"]
    assert hello["chat"]["id"] == message["chatId"]
    assert hello["chat"]["status"] == "pending"
    assert [m["id"] for m in hello["chat"]["messages"]] == [message["id"]]


async def test_unknown_visitor_id_creates_a_new_visitor(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as visitor:
        _, hello = await visitor.visitor_login("vi-from-another-server")
    assert hello["visitor"]["id"] != "vi-from-another-server"


async def test_official_sdk_extra_fields_are_accepted(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    async with raw_socket(client) as agent, raw_socket(client) as visitor:
        await agent.login(track_visitors=True)
        error, hello = await visitor.visitor_login(createdAt=0, properties={"plan": "pro"})
        assert error is None
        assert (await agent.event())[0] == "visitor.connected"
        error, _ = await visitor.request(
            "chat.message", {"content": TEXT, "type": "contact", "preventOpenChat": False}
        )
        assert error is None
        await visitor.send('42["visitor.update",{"values":{"phone":"+420","email":"v@x.cz"}},null]')
        events = [await agent.event() for _ in range(3)]
        assert [name for name, _ in events] == [
            "chat.opened",
            "chat.message_received",
            "visitor.updated",
        ]
        assert events[2][1] == {
            "id": hello["visitor"]["id"],
            "changes": {"email": "v@x.cz", "phone": "+420"},
        }


async def test_second_tab_does_not_announce_the_visitor_again(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    async with raw_socket(client) as agent:
        await agent.login(track_visitors=True)
        async with raw_socket(client) as tab1:
            _, hello = await tab1.visitor_login()
            visitor_id = hello["visitor"]["id"]
            # S4: visitor.connected is the flat visitor object, not {visitor}.
            assert await agent.event() == (
                "visitor.connected",
                control_of(app).visitors()["visitors"][0],
            )
            async with raw_socket(client) as tab2:
                await tab2.visitor_login(visitor_id)
                # tab 2 writes: tab 1 hears the visitor's own message, tab 2 gets the ack.
                _, message = await tab2.request("chat.message", {"content": TEXT})
                assert await tab1.event() == (
                    "chat.message_received",
                    {"chatId": message["chatId"], "message": message},
                )
            assert [name for name, _ in [await agent.event(), await agent.event()]] == [
                "chat.opened",
                "chat.message_received",
            ]
        assert await agent.event() == ("visitor.disconnected", {"id": visitor_id})


async def test_close_without_a_chat_is_not_found(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as visitor:
        await visitor.visitor_login()
        error, _ = await visitor.request("chat.close", None)
    assert error["type"] == "not_found"


async def test_account_status_follows_agents(client: httpx.AsyncClient) -> None:
    async with raw_socket(client) as visitor:
        _, hello = await visitor.visitor_login()
        assert hello["account"]["status"] == "offline"
        async with raw_socket(client) as agent:
            await agent.login()
            assert await visitor.event() == ("account.updated", {"status": "online"})
        assert await visitor.event() == ("account.updated", {"status": "offline"})


async def test_account_status_is_announced_only_when_it_changes(
    client: httpx.AsyncClient,
) -> None:
    async with raw_socket(client) as visitor:
        await visitor.visitor_login()
        async with raw_socket(client) as bot, raw_socket(client) as human:
            await bot.login()
            assert await visitor.event() == ("account.updated", {"status": "online"})
            await human.login(agent_id="human-1", token="human-token")
            await human.request("agent.logout", {})  # the bot is still online: no news
            await bot.request("agent.logout", {})
            assert await visitor.event() == ("account.updated", {"status": "offline"})
