"""A pending reply survives a flapping link: its paced wait is not started over (issue 16).

The soak's flapping profile (``benchmarks/soak.py --cli --profile flapping``: the link drops
0.5-1.5 s after every login, real pacing) lost 392 of 400 visitor messages: every new link
started the reply's whole paced wait (up to 8 s) again, so no reply ever fitted between two
drops. The rule (agentbot.runtime.speaker) is that after a reconnect a pending reply shows
typing again and waits *what is left of its wait, and at least* ``[pacing] retype_seconds``.
The FakeClient's events play the drop and the new session; the virtual clock holds the bot in
its paced wait, so the moments are exact.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.lowlevel

from agentbot import Reply, hookimpl
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.runtime.clock import VirtualClock

from .conftest import RunningBot
from .fakes import make_session, visitor_message

LONG = "x" * 400  # typing it takes longer than max_seconds: the wait is exactly 8 s


async def until(predicate: Callable[[], bool]) -> None:
    """Let the bot's tasks run until ``predicate`` holds (bounded; no time passes)."""
    with anyio.fail_after(5):
        while not predicate():
            await anyio.lowlevel.checkpoint()


class LongAnswer:
    @hookimpl
    def on_visitor_message(self) -> Reply:
        return Reply(LONG)


async def test_a_reconnect_keeps_what_was_left_of_the_paced_wait(
    running_bot: RunningBot,
) -> None:
    clock = VirtualClock()
    async with running_bot(LongAnswer(), clock=clock, pacing={"max_seconds": 8.0}) as (
        bot,
        client,
    ):
        await client.feed(visitor_message("c1", "hi"))
        await clock.wait_sleepers(1)
        assert clock.sleeps[0] == 8.0
        await clock.advance(7.5)  # most of the wait is over
        await client.feed(ConnectionDropped(reason="flap"))
        await until(lambda: not bot.speaker.link_up)
        await clock.advance(1.0)  # the deadline passes while the link is down
        assert client.messages("c1") == []
        await client.feed(Reconnected(attempt=1, downtime_seconds=1.0, session=make_session()))
        await until(lambda: bot.speaker.ready)
        await clock.wait_sleepers(1)
        # What was left (nothing) and at least the re-typing pause; not 8 s again.
        retype = bot.config.pacing.retype_delay_seconds
        await clock.advance(retype + 0.01)
        await client.wait_for(lambda calls: ("message", "c1", LONG) in calls)
        assert client.messages("c1") == [LONG]
