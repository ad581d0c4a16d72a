"""Fixtures for runtime tests: a Bot wired to the in-memory FakeClient and a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import pytest

from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.pacing import PacingSettings
from agentbot.runtime.storage import MEMORY, Storage

from .fakes import BOT_ID, FakeClient


def make_config(
    *, pacing: dict[str, Any] | None = None, runtime: dict[str, Any] | None = None, **smartsupp: Any
) -> BotConfig:
    return BotConfig(
        path=None,
        # The in-memory FakeClient speaks the socket; REST runs are tested against the sandbox.
        smartsupp=SmartsuppSettings(
            agent_id=BOT_ID, key="secret-key", **{"send_via": "socket", **smartsupp}
        ),
        pacing=PacingSettings(**(pacing or {})),
        runtime=RuntimeSettings(**(runtime or {})),
    )


RunningBot = Callable[..., AbstractAsyncContextManager[tuple[Bot, FakeClient]]]


@pytest.fixture
def running_bot() -> RunningBot:
    """Start a Bot on a FakeClient: ``async with running_bot(plugin, ...) as (bot, client)``.

    Options: ``clock`` (default an autojumping VirtualClock), ``pacing``/``runtime``
    (settings overrides), ``client``, ``storage``, ``config``, ``named`` (name → plugin).
    Leaving the block stops the bot and waits for its shutdown.
    """

    @asynccontextmanager
    async def start(
        *plugins: object,
        clock: VirtualClock | None = None,
        pacing: dict[str, Any] | None = None,
        runtime: dict[str, Any] | None = None,
        client: FakeClient | None = None,
        storage: Storage | None = None,
        config: BotConfig | None = None,
        named: dict[str, object] | None = None,
    ) -> AsyncIterator[tuple[Bot, FakeClient]]:
        client = client or FakeClient()
        given = [(f"p{index}", plugin) for index, plugin in enumerate(plugins)]
        given += list((named or {}).items())
        own_storage = storage is None
        storage = storage or Storage(MEMORY)
        bot = Bot(
            config or make_config(pacing=pacing, runtime=runtime),
            plugins=given,
            connect=client.factory(),
            clock=clock or VirtualClock(autojump=True),
            storage=storage,
            entry_points={},
        )
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(bot.run)
                yield bot, client
                bot.stop()
        finally:
            if own_storage:
                storage.close()

    return start
