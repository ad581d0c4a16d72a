"""/readyz says "not ready" when a plugin blocks the event loop, asked from another thread.

The bot runs a sync hook inline (``[runtime] sync_hooks = "inline"``) that blocks the loop
for real — that block is the thing under test, so it cannot be virtual. A probe in another
thread asks /readyz while the loop is blocked; the server, in that same loop, answers only
once the loop is free again, and must still report the lag it measured.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import httpx

from agentbot import Reply, hookimpl
from agentbot.runtime.metrics import Metrics
from agentbot.runtime.ops_server import TICK_SECONDS

from .test_e2e_sandbox import WAIT_SECONDS, bot_on_sandbox
from .test_metrics import ops

BLOCK_SECONDS = 2 * TICK_SECONDS  # the ticker wakes at least one tick late
MAX_LAG_SECONDS = TICK_SECONDS / 2


class BlocksTheLoop:
    """A sync hook doing blocking work (a synchronous HTTP call, say) on the loop."""

    def __init__(self) -> None:
        self.blocking = threading.Event()

    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        self.blocking.set()
        time.sleep(BLOCK_SECONDS)  # blocking the loop is the point here
        return Reply("done", confidence=0.5)


async def test_readyz_reports_a_blocked_loop_to_a_probe_from_another_thread() -> None:
    metrics = Metrics()
    plugin = BlocksTheLoop()
    runtime = {"sync_hooks": "inline"}
    async with bot_on_sandbox(4, plugin, in_process=True, runtime=runtime) as h:
        metrics.add_bot("bot-a", h.bot)
        async with ops(metrics) as (server, http):
            server.max_loop_lag_seconds = MAX_LAG_SECONDS
            before = await http.get("/readyz")
            probed: dict[str, Any] = {}

            def probe() -> None:  # another thread: it cannot be blocked by the loop
                assert plugin.blocking.wait(WAIT_SECONDS)
                response = httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=30)
                probed["status"], probed["body"] = response.status_code, response.json()

            prober = threading.Thread(target=probe)
            prober.start()
            chat_id, _, _ = h.write("hello")
            await h.wait(lambda: ("message", "done") in h.wire(chat_id))
            await anyio.to_thread.run_sync(prober.join)
            # Once the loop ticks on time again, the bot is ready again.
            with anyio.fail_after(WAIT_SECONDS):
                while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                    await anyio.sleep(TICK_SECONDS / 5)  # the ticker runs on real time
    assert before.status_code == 200, before.text
    assert probed["status"] == 503, probed
    assert probed["body"]["loop_lag_seconds"] >= BLOCK_SECONDS - TICK_SECONDS
    assert any("behind" in reason for reason in probed["body"]["reasons"])
