"""Run the built-in plugins the way a user does: installed entry points, a real Bot, the
real AgentClient, and the sandbox in-process (ASGI, so asyncio and trio both run).

``bot_with(sections)`` takes ``{plugin name: options}`` exactly as ``[plugins.NAME]`` in
bot.toml, so the plugins load through the ``agentbot`` entry-point group and their options
are validated by their own config classes. Pacing runs on an autojumping VirtualClock
unless a test passes its own clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

from agentbot.client import AgentClient, ReconnectPolicy
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, PluginSection, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.sandbox import SandboxConfig, create_app
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

WAIT_SECONDS = 15
FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)


class Harness:
    """The sandbox, the bot, and helpers to speak as visitors and read the bot's messages."""

    def __init__(self, app: Any, bot: Bot, clock: Any) -> None:
        self.app = app
        self.bot = bot
        self.clock = clock
        self.control = app.state.control
        self.sandbox = app.state.sandbox
        self.bot_id = app.state.sandbox.config.bot.id
        self.visitors: dict[str, str] = {}

    def plugin(self, name: str) -> Any:
        """Return the loaded plugin object called ``name``."""
        return next(p.plugin for p in self.bot.host.plugins if p.name == name)

    def visitor(self, name: str = "Ada", **fields: Any) -> str:
        if name not in self.visitors:
            created = self.control.create_visitor(name=name or None, **fields)
            self.visitors[name] = created["visitor"]["id"]
        return self.visitors[name]

    def write(self, text: str, *, visitor: str = "Ada") -> str:
        """The visitor writes; return the chat id."""
        return str(self.control.visitor_message(self.visitor(visitor), text)["chat"]["id"])

    def bot_messages(self, chat_id: str) -> list[str]:
        """The bot's chat messages in ``chat_id``, in order (from the sandbox's transcript)."""
        entries = self.control.transcript(chat_id)["entries"]
        return [
            e["text"]
            for e in entries
            if e["kind"] == "message" and e["by"] == "agent" and e.get("agentId") == self.bot_id
        ]

    def typing_off_count(self, chat_id: str) -> int:
        return sum(
            1
            for r in self.control.agent_requests(self.bot_id)["requests"]
            if r["name"] == "chat.typing"
            and r["args"][0].get("chatId") == chat_id
            and not r["args"][0]["typing"]["is"]
        )

    async def wait(self, predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(WAIT_SECONDS):
            await self.sandbox.wait_until(predicate)

    async def wait_bot(self, predicate: Callable[[], bool]) -> None:
        """Wait for a condition on the bot's side (no sandbox change announces it)."""
        with anyio.fail_after(WAIT_SECONDS):
            while not predicate():  # bounded by fail_after; yields to the bot each turn
                await anyio.lowlevel.checkpoint()

    async def say(self, text: str, *, visitor: str = "Ada") -> str:
        """The visitor writes and the bot finishes whatever it does about it; return the chat."""
        chat_id = self.write(text, visitor=visitor)
        await self.settle()
        return chat_id

    async def settle(self) -> None:
        """Let every chat actor finish (handled events, sent what it planned)."""
        with anyio.fail_after(WAIT_SECONDS):
            while True:
                await anyio.wait_all_tasks_blocked()
                busy = [a for a in self.bot.chats.actors.values() if a.busy]
                if not busy:
                    return
                if isinstance(self.clock, VirtualClock) and not self.clock.autojump:
                    return  # a manual clock: the test moves time itself
                await anyio.lowlevel.checkpoint()


def bot_config(
    sections: dict[str, dict[str, Any]],
    *,
    url: str = "http://sandbox",
    track_visitors: bool = False,
    config_path: Path | None = None,
    runtime: dict[str, Any] | None = None,
) -> BotConfig:
    """A BotConfig for the sandbox's bot agent running ``sections``' plugins."""
    sandbox_config = SandboxConfig()
    return BotConfig(
        path=config_path,
        smartsupp=SmartsuppSettings(
            url=url,
            agent_id=sandbox_config.bot.id,
            key=sandbox_config.account_key,
            auth_token=sandbox_config.bot.auth_token,
            eio=4,
            track_visitors=track_visitors,
            api_url=f"{url}{REST_PREFIX}",
            api_token=api_token_for(sandbox_config.bot),
        ),
        runtime=RuntimeSettings(**(runtime or {})),
        plugins=tuple(
            PluginSection(name=name, options=options, position=position)
            for position, (name, options) in enumerate(sections.items())
        ),
    )


def prepare(sections: dict[str, dict[str, Any]]) -> Bot:
    """Load and validate ``sections``' plugins without connecting (config errors surface)."""
    bot = Bot(bot_config(sections), storage=Storage(MEMORY))
    bot.prepare()
    return bot


@asynccontextmanager
async def bot_with(
    sections: dict[str, dict[str, Any]],
    *,
    clock: Any = None,
    track_visitors: bool = False,
    config_path: Path | None = None,
    storage: Storage | None = None,
    runtime: dict[str, Any] | None = None,
    extra: list[tuple[str, object]] | None = None,
    human_online: bool = False,
) -> AsyncIterator[Harness]:
    """Start the sandbox and a Bot running ``sections``' plugins from their entry points.

    ``human_online``: the sandbox's human agent is logged in before the bot starts (the
    sandbox reports agent statuses in the bot's login reply, not as later events).
    """
    app = create_app(SandboxConfig())
    clock = clock if clock is not None else VirtualClock(autojump=True)
    config = bot_config(
        sections, track_visitors=track_visitors, config_path=config_path, runtime=runtime
    )

    def connect() -> AgentClient:
        settings = config.smartsupp
        return AgentClient(
            settings.url,
            agent_id=settings.agent_id,
            key=settings.key,
            auth_token=settings.auth_token,
            eio=settings.eio,
            track_visitors=bot.track_visitors,
            reconnect=FAST_RECONNECT,
            asgi_app=app,
        )

    own = storage is None
    store = storage if storage is not None else Storage(MEMORY)
    try:
        async with AsyncExitStack() as stack:
            if human_online:
                human = app.state.sandbox.config.human
                await stack.enter_async_context(
                    AgentClient(
                        "http://sandbox",
                        agent_id=human.id,
                        key=app.state.sandbox.config.account_key,
                        auth_token=human.auth_token,
                        eio=4,
                        asgi_app=app,
                    )
                )

            def outbound(bot: Bot) -> Outbound:
                return Outbound(
                    config.smartsupp,
                    lambda: bot.client,
                    agent_id=lambda: bot.agent_id,
                    wall_clock=bot.wall_clock,
                    asgi_app=app,
                )

            bot = Bot(
                config,
                plugins=extra or (),
                connect=connect,
                outbound=outbound,
                clock=clock,
                storage=store,
            )
            async with anyio.create_task_group() as tg:
                with anyio.fail_after(WAIT_SECONDS):
                    await tg.start(bot.run)
                yield Harness(app, bot, clock)
                bot.stop()
    finally:
        if own:
            store.close()
