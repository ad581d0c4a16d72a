"""How a Bot builds its parts from bot.toml when nobody hands them in (production defaults).

Tests and embedding programs pass their own (``Bot(connect=..., outbound=..., storage=...)``);
``agentbot run`` uses these: the store from ``[runtime]`` (SQLite at ``storage_path``, or
PostgreSQL at ``storage_url``), the ledger in it under this bot's namespace (pruned past
retention), the :class:`~agentbot.client.AgentClient` and the
:class:`~agentbot.runtime.outbound.Outbound` from ``[smartsupp]``.

One namespace rule (:func:`bot_namespace`) keys everything of a bot: the ledger's rows (its
inbox holds the answered ids), the PostgreSQL plugin rows, and the replicas' lease. Were they
keyed apart, a replica could hold the lease of one namespace while answering from another's
outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from agentbot.api import VisitorGet
from agentbot.errors import AgentbotError
from agentbot.runtime.ledger import Ledger, namespace_for
from agentbot.runtime.outbound import Outbound
from agentbot.runtime.ports import AgentClientLike
from agentbot.runtime.retention import prune_retention
from agentbot.runtime.storage import Storage
from agentbot.runtime.visitors import NotConnected

if TYPE_CHECKING:
    from agentbot.client import AgentClient
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.config import BotConfig, SmartsuppSettings

__all__ = [
    "apply_retention",
    "bot_namespace",
    "default_client",
    "default_outbound",
    "open_ledger",
    "open_storage",
    "stop_on_rest_auth_failure",
    "visitor_fetcher",
]

logger = logging.getLogger(__name__)

_DAY_SECONDS = 86400


def bot_namespace(config: BotConfig) -> str:
    """Return the bot's namespace: ``[runtime] storage_namespace``, else agent + account digest."""
    settings = config.smartsupp
    return config.runtime.storage_namespace or namespace_for(
        settings.url, settings.agent_id, settings.key
    )


def open_storage(config: BotConfig) -> Storage:
    """The store of ``[runtime]``: PostgreSQL at ``storage_url``, else SQLite at ``storage_path``.

    Raises ``ConfigError`` (a PostgreSQL server that cannot be reached, a bad path).
    """
    url = config.runtime.storage_url
    if url is not None:
        from agentbot.runtime.pg_storage import PgStorage  # psycopg only when asked for

        return PgStorage(url, namespace=bot_namespace(config))
    return Storage(config.resolved_storage_path(), on_error=config.runtime.on_storage_error)


def open_ledger(bot: Bot, storage: Storage) -> Ledger:
    """The bot's ledger in ``storage``, with rows past retention forgotten."""
    ledger = Ledger(storage, bot_namespace(bot.config), wall_clock=bot.wall_clock)
    apply_retention(bot, ledger, storage)
    return ledger


def apply_retention(bot: Bot, ledger: Ledger, storage: Storage) -> None:
    """Forget ledger rows, leads, notes and questions past ``[runtime]`` retention.

    At every start (:func:`open_ledger`) and daily while the bot runs
    (:func:`~agentbot.runtime.retention.prune_daily`).
    """
    runtime = bot.config.runtime
    removed = ledger.expire(
        closed_after_seconds=runtime.chat_state_retention_days * _DAY_SECONDS,
        idle_after_seconds=runtime.seen_retention_days * _DAY_SECONDS,
    )
    if removed:
        logger.debug("forgot %d ledger rows past retention", removed)
    prune_store(bot, storage)


def prune_store(bot: Bot, storage: Storage) -> None:
    """Forget leads, hand-off notes and questions past ``[runtime]`` retention."""
    if not isinstance(storage, Storage):
        return  # another store (a test's): not pruned here
    pruned = prune_retention(storage, bot.config, now=bot.wall_clock())
    if any(pruned.values()):
        logger.info("retention: forgot %s", ", ".join(f"{n} {k}" for k, n in pruned.items()))


def default_outbound(bot: Bot) -> Outbound:
    """The transport of ``[smartsupp] send_via``, sleeping on the bot's clock."""

    async def sleep(seconds: float) -> None:
        await bot.clock.sleep_until(bot.clock.now() + seconds)

    return Outbound(
        bot.config.smartsupp,
        lambda: bot.client,
        agent_id=lambda: bot.agent_id,
        sleep=sleep,
        wall_clock=bot.wall_clock,
    )


def default_client(bot: Bot) -> AbstractAsyncContextManager[AgentClientLike]:
    """The socket client of ``[smartsupp]`` (not entered: entering logs in)."""
    client: AbstractAsyncContextManager[AgentClientLike] = agent_client_for(
        bot.config.smartsupp, track_visitors=bot.track_visitors
    )
    return client


def agent_client_for(
    settings: SmartsuppSettings, *, track_visitors: bool | None = None, asgi_app: Any = None
) -> AgentClient:
    """An :class:`~agentbot.client.AgentClient` for ``[smartsupp]`` (the one place that maps
    the settings to the client: ``run``, ``check --live`` and ``record`` all use it).

    ``track_visitors`` defaults to the setting; ``asgi_app`` talks to an in-process sandbox.
    """
    from agentbot.client import AgentClient

    return AgentClient(
        settings.url,
        agent_id=settings.agent_id,
        key=settings.key,
        auth_token=settings.auth_token,
        eio=settings.eio,
        track_visitors=settings.track_visitors if track_visitors is None else track_visitors,
        max_frame_bytes=settings.max_frame_bytes,
        asgi_app=asgi_app,
    )


def stop_on_rest_auth_failure(bot: Bot) -> Callable[[AgentbotError], None]:
    """What the speaker calls when the REST API refuses the credential: log once, stop for good.

    Retrying cannot help (a wrong or revoked ``api_token``), and going on would drop every
    reply, so the bot stops with ``closed_reason = "rest_auth_failure"``.
    """

    def stop(exc: AgentbotError) -> None:
        logger.error(
            "the REST API refused the credential (%s): check [smartsupp] api_token "
            "(AGENTBOT_API_TOKEN) and api_auth; stopping",
            exc,
        )
        bot.closed_reason = "rest_auth_failure"
        bot.stop()

    return stop


def visitor_fetcher(bot: Bot) -> Callable[[str], Awaitable[Any]]:
    """How the visitor directory asks the server about a visitor (``visitor.get``)."""

    async def fetch(visitor_id: str) -> Any:
        client = bot.client
        if client is None:
            raise NotConnected("not connected")
        return await client.request(VisitorGet(id=visitor_id), timeout=bot.visitors.timeout_seconds)

    return fetch
