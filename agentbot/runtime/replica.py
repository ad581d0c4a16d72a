"""One active replica per bot: a standby waits for the lease, the holder runs the bot beside it.

With ``[runtime] storage_url`` several processes may run the same bot file (on one machine or
many) for availability. Each one, before it opens the store or logs in, waits as a *standby*
until it holds the bot's lease (:class:`~agentbot.runtime.lease.Lease`, keyed by the bot's
namespace, :func:`~agentbot.runtime.wiring.bot_namespace`); then it is *active*: it runs
:meth:`Bot.run` while :meth:`Lease.hold` renews the lease in the same task group.

Why the order matters. The PostgreSQL store loads the namespace into memory when it opens
(:mod:`agentbot.runtime.pg_storage`), so it must open only after the lease is held: then it
sees everything the previous holder committed (its outbox entries ``sending``, its inbox), and
the first login's resync confirms or resends each, never both. And only the holder may be
logged in: two logged-in replicas would both answer every visitor.

When the lease is lost (another replica took it, or no renewal reached the database for
``lease_ttl_seconds``) the bot is cancelled at once — pending replies send ``chat.typing``
false from their shielded clean-up, nothing new is sent — and :class:`LeaseLost` propagates,
so ``agentbot run`` exits non-zero with one line and a supervisor may start it again as a
standby. A clean stop (SIGTERM) stops the bot first, closing the store (its queue flushed),
then releases the lease, so a standby takes over at its next try rather than after the ttl.
A standby answers SIGINT/SIGTERM at once (the launcher cancels the wait: nothing to wind
down), and ``/readyz`` reports it as ``standby``, not ready.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc
import psycopg

from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import RealClock
from agentbot.runtime.lease import Lease, LeaseLost
from agentbot.runtime.retention import prune_daily
from agentbot.runtime.wiring import bot_namespace

__all__ = ["ACTIVE", "LOST", "STANDBY", "lease_for", "run_replica"]

logger = logging.getLogger(__name__)

STANDBY = "standby"
"""``Bot.replica_role`` while waiting for the lease."""
ACTIVE = "active"
"""``Bot.replica_role`` while holding it (the bot runs)."""
LOST = "lost"
"""``Bot.replica_role`` after the lease slipped away (the bot is being stopped)."""


def lease_for(bot: Bot) -> Lease | None:
    """Return the lease ``bot`` must hold to run, or None without ``[runtime] storage_url``."""
    runtime = bot.config.runtime
    if runtime.storage_url is None:
        return None
    return Lease(
        runtime.storage_url,
        namespace=bot_namespace(bot.config),
        ttl_seconds=runtime.lease_ttl_seconds,
        clock=bot.clock,
    )


async def run_replica(
    bot: Bot,
    *,
    lease: Lease | None = None,
    task_status: anyio.abc.TaskStatus[Bot] = anyio.TASK_STATUS_IGNORED,
    on_standby: Callable[[], None] | None = None,
) -> None:
    """Run ``bot`` once it holds its lease (at once without ``storage_url``).

    ``task_status`` is handed to :meth:`Bot.run` (started once logged in), so a runner of
    several bots (``fleet.py``) can start each through here. Returns when the bot stops on
    its own or through :meth:`Bot.stop`. ``on_standby`` is called once when another replica
    holds the lease at the first try (a fleet counts that bot as settled: it has tried, and
    may wait for the lease for as long as the other replica lives). Raises
    :class:`LeaseLost` (in an exception group, as task groups raise) when the lease slips
    away while the bot runs, and whatever :meth:`Bot.run` raises.
    """
    lease = lease or lease_for(bot)
    if lease is None:
        await _run_pruning_daily(bot, task_status)
        return
    bot.replica_role = STANDBY
    try:
        if not await _try_once(lease):
            logger.info(
                "standby: another replica holds the lease of %s; taking over within %.1f s "
                "of its end",
                lease.namespace,
                lease.max_takeover_seconds,
            )
            if on_standby is not None:
                on_standby()
        async with anyio.create_task_group() as tg:
            await tg.start(_hold, bot, lease)
            if bot.stopping:  # signalled while the lease was being taken
                tg.cancel_scope.cancel()
                return
            bot.replica_role = ACTIVE
            logger.info("active: this replica holds the lease; logging in")
            await _run_pruning_daily(bot, task_status)
            tg.cancel_scope.cancel()  # hold's clean-up releases the lease
    finally:
        lease.close()


async def _run_pruning_daily(bot: Bot, task_status: anyio.abc.TaskStatus[Bot]) -> None:
    """:meth:`Bot.run`, with the store pruned past retention daily beside it (retention.py).

    Here, not in the Bot: only the active replica prunes, and the task is not one of the
    plugins' background tasks (a harness counts those to tell an idle bot from a busy one).
    On the real clock only: a test's virtual clock records every sleep (and an autojumping
    one would spin through the days); tests drive :func:`prune_daily` themselves.
    """
    if not isinstance(bot.clock, RealClock):
        await bot.run(task_status=task_status)
        return
    async with anyio.create_task_group() as tg:
        tg.start_soon(prune_daily, bot, name="agentbot retention")
        await bot.run(task_status=task_status)
        tg.cancel_scope.cancel()


async def _try_once(lease: Lease) -> bool:
    try:
        return await lease.try_acquire()
    except psycopg.Error:
        return False  # wait_acquired logs and retries


async def _hold(
    bot: Bot, lease: Lease, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    try:
        await lease.hold(task_status=task_status)
    except LeaseLost as exc:
        bot.replica_role = LOST
        logger.error("%s: stopping at once so another replica takes over", exc)
        raise
