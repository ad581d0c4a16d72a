"""Issue 11 end to end: Smartsupp's official visitor SDK asks, the real bot answers.

The visitor is ``smartsupp-websocket``'s VisitorClient (tests/interop, code nobody here
wrote), the sandbox runs under uvicorn on 127.0.0.1, and the bot is the real
:class:`~agentbot.runtime.bot.Bot` with the real AgentClient and Outbound. With
``send_via = "rest"`` the reply goes as ``POST /v2/conversations/{id}`` (VENDOR-SOURCES §3:
the vendor's agent library sends no socket ``chat.message``), so the test asserts on what
the sandbox recorded: the bot's socket requests (``control.agent_requests``) hold typing
only, and ``app.state.rest.requests`` holds the message. Pacing runs on a virtual clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from sandbox.nodepeer import NodePeer

from agentbot import Reply, hookimpl
from agentbot.client import AgentClient, ReconnectPolicy
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, SmartsuppSettings
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for
from interop.node import NodePeers

pytestmark = [pytest.mark.interop, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

WAIT_SECONDS = 15
POST_MESSAGE = "POST /v2/conversations/{id}"
QUESTION = "Do you ship to Norway?"


class Answers:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply | None:
        if "Norway" in text:
            return Reply("Yes, we ship to Norway.", confidence=0.9)
        return None


@asynccontextmanager
async def bot_and_sandbox(send_via: str) -> AsyncIterator[tuple[str, Any, Bot]]:
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    async with running_server(app) as base_url:
        config = BotConfig(
            path=None,
            smartsupp=SmartsuppSettings(
                url=base_url,
                agent_id=sandbox_config.bot.id,
                key=sandbox_config.account_key,
                auth_token=sandbox_config.bot.auth_token,
                send_via=send_via,
                api_url=f"{base_url}{REST_PREFIX}",
                api_token=api_token_for(sandbox_config.bot),
            ),
        )

        def connect() -> AgentClient:
            settings = config.smartsupp
            return AgentClient(
                settings.url,
                agent_id=settings.agent_id,
                key=settings.key,
                auth_token=settings.auth_token,
                eio=settings.eio,
                reconnect=ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05),
            )

        def outbound(bot: Bot) -> Outbound:
            return Outbound(
                config.smartsupp,
                lambda: bot.client,
                agent_id=lambda: bot.agent_id,
                wall_clock=bot.wall_clock,
            )

        with Storage(MEMORY) as storage:
            bot = Bot(
                config,
                plugins=[("answers", Answers())],
                connect=connect,
                outbound=outbound,
                clock=VirtualClock(autojump=True),
                storage=storage,
                entry_points={},
            )
            async with anyio.create_task_group() as tg:
                with anyio.fail_after(WAIT_SECONDS):
                    await tg.start(bot.run)
                yield base_url, app, bot
                bot.stop()


async def visitor_asks(node_peers: NodePeers, url: str, app: Any) -> tuple[str, dict[str, Any]]:
    """The official SDK connects and asks; return (chat id, the reply the visitor received)."""
    data = {"id": None, "key": app.state.sandbox.config.account_key, "name": "Vera", "lang": "en"}
    async with NodePeer.run(node_peers, role="visitor", url=url, data=data) as visitor:
        error, hello = await visitor.ask("connect")
        assert error is None
        assert hello["visitor"]["name"] == "Vera"
        error, asked = await visitor.ask("message", text=QUESTION)
        assert error is None
        assert asked["subType"] == "contact"
        got = await visitor.wait_event("chat.message_received")
        # Typing off follows the message (the typing true -> message -> false sequence).
        await visitor.wait_for(
            lambda: any(
                line.get("name") == "chat.agent_typing" and not line["data"]["typing"]["is"]
                for line in visitor.lines
            )
        )
        typing = [
            line["data"]["typing"]["is"]
            for line in visitor.lines
            if line.get("name") == "chat.agent_typing"
        ]
        assert typing[0] is True
        assert typing[-1] is False
        return got["chatId"], got["message"]


@pytest.mark.parametrize("send_via", ["rest", "socket"])
async def test_official_visitor_sdk_asks_and_the_bot_answers(
    node_peers: NodePeers, send_via: str
) -> None:
    async with bot_and_sandbox(send_via) as (url, app, bot):
        chat_id, reply = await visitor_asks(node_peers, url, app)
        assert reply["subType"] == "agent"
        assert reply["agentId"] == bot.agent_id
        assert reply["content"]["text"] == "Yes, we ship to Norway."

        control = app.state.control
        socket_names = [r["name"] for r in control.agent_requests(bot.agent_id)["requests"]]
        rest_posts = [r for r in app.state.rest.requests if r["operation"] == POST_MESSAGE]
        assert "chat.typing" in socket_names  # typing stays on the socket in both modes
        if send_via == "rest":
            assert "chat.message" not in socket_names
            assert [(r["path"], r["status"], r["agentId"]) for r in rest_posts] == [
                (f"{REST_PREFIX}/v2/conversations/{chat_id}", 200, bot.agent_id)
            ]
            assert rest_posts[0]["body"]["content"]["text"] == "Yes, we ship to Norway."
        else:
            assert socket_names.count("chat.message") == 1
            assert rest_posts == []
        # The sandbox stored exactly one agent message: the one the visitor received.
        entries = control.transcript(chat_id)["entries"]
        said = [(e["by"], e["text"]) for e in entries if e["kind"] == "message"]
        assert said == [("visitor", QUESTION), ("agent", "Yes, we ship to Norway.")]
