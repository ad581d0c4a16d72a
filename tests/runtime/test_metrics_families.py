"""Every /metrics family moves when its thing happens, on a real bot logged in to the sandbox.

One test per family the operations issue lists (login failures, FAQ decisions, reconnects,
plugin time-outs, outbox depth, rate-limit drops; events, replies, histograms, connection up
and plugin errors are in ``test_metrics.py``). The bot is the real Bot and AgentClient on
the in-process sandbox (both backends); faults come from the sandbox's control API
(``drop``, ``ack_fault``); the exposition is scraped over loopback with httpx and parsed
with prometheus_client's parser, as Prometheus would read it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs

from agentbot import AuthFailure, Reply, hookimpl
from agentbot.client import AgentClient
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.runtime.metrics import Metrics
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.sandbox import SandboxConfig, create_app
from agentbot.testing import HarnessFactory

from .test_e2e_sandbox import FAST_RECONNECT, WAIT_SECONDS, Echo, bot_on_sandbox
from .test_metrics import ops, samples, value

LOGIN_TIMEOUT_SECONDS = 0.3  # the client's own (real-time) login watchdog, kept short


async def eventually(predicate: Callable[[], bool]) -> None:
    """Wait, bounded, until ``predicate()`` holds (a bot-side fact the sandbox cannot see).

    Checked each time every task is blocked (the sandbox is in-process: nothing else runs).
    """
    with anyio.fail_after(WAIT_SECONDS):
        while not predicate():
            await anyio.wait_all_tasks_blocked()


@asynccontextmanager
async def sandbox_bot(*, key: str | None = None) -> AsyncIterator[tuple[Any, Bot, Metrics]]:
    """The sandbox app and a Bot (not started) whose observer is set before it logs in."""
    sandbox_config = SandboxConfig()
    app = create_app(sandbox_config)
    config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(
            url="http://sandbox",
            agent_id=sandbox_config.bot.id,
            key=key if key is not None else sandbox_config.account_key,
            auth_token=sandbox_config.bot.auth_token,
            eio=4,
            send_via="socket",
        ),
        runtime=RuntimeSettings(),
    )

    def connect() -> AgentClient:
        settings = config.smartsupp
        return AgentClient(
            settings.url,
            agent_id=settings.agent_id,
            key=settings.key,
            auth_token=settings.auth_token,
            eio=settings.eio,
            reconnect=FAST_RECONNECT,
            connect_timeout=LOGIN_TIMEOUT_SECONDS,
            asgi_app=app,
        )

    metrics = Metrics()
    with Storage(MEMORY) as storage:
        bot = Bot(
            config,
            plugins=[("p0", Echo())],
            connect=connect,
            clock=VirtualClock(autojump=True),
            storage=storage,
            entry_points={},
        )
        bot.observer = metrics.add_bot("bot-a", bot)
        yield app, bot, metrics


def agent_connects(app: Any) -> list[dict[str, Any]]:
    bot_id = app.state.sandbox.config.bot.id
    found = app.state.control.agent_requests(bot_id)["requests"]
    return [r for r in found if r["name"] == "agent.connect"]


async def scrape(metrics: Metrics) -> dict[Any, float]:
    async with ops(metrics) as (_server, http):
        response = await http.get("/metrics")
        assert response.status_code == 200
        return samples(response.text)


async def test_a_refused_login_at_start_counts_as_auth_failure() -> None:
    async with sandbox_bot(key="not-the-account-key") as (_app, bot, metrics):
        refused = False
        try:
            await bot.run()
        except* AuthFailure:  # bare on one backend, in the client's task group on the other
            refused = True
        assert refused
        found = await scrape(metrics)
    assert value(found, "agentbot_login_failures_total", bot="bot-a", reason="auth_failure") == 1
    assert value(found, "agentbot_connection_up", bot="bot-a") == 0.0


async def test_a_login_timeout_on_reconnect_is_counted_and_the_reconnect_too() -> None:
    async with sandbox_bot() as (app, bot, metrics), anyio.create_task_group() as tg:
        with anyio.fail_after(WAIT_SECONDS):
            await tg.start(bot.run)
        control = app.state.control
        # The next login gets no answer: the client's watchdog gives up, then retries.
        control.ack_fault(request="agent.connect", action="drop", count=1)
        control.drop(side="agent")
        with anyio.fail_after(WAIT_SECONDS):
            await app.state.sandbox.wait_until(lambda: len(agent_connects(app)) == 3)
        await eventually(lambda: bot.stats["reconnects"] == 1)
        found = await scrape(metrics)
        bot.stop()
    assert len(agent_connects(app)) == 3  # the first login, the unanswered one, the retry
    assert value(found, "agentbot_login_failures_total", bot="bot-a", reason="timeout") == 1
    assert value(found, "agentbot_reconnects_total", bot="bot-a") == 1
    assert value(found, "agentbot_connection_up", bot="bot-a") == 1


async def test_a_login_refused_on_reconnect_counts_and_the_connection_is_down() -> None:
    async with sandbox_bot() as (app, bot, metrics):
        with anyio.fail_after(WAIT_SECONDS):
            async with anyio.create_task_group() as tg:
                await tg.start(bot.run)
                hub = app.state.sandbox
                hub.config = attrs.evolve(hub.config, account_key="rotated")  # key changed
                app.state.control.drop(side="agent")
            # bot.run returned by itself: the client stopped for good, with no retry.
        found = await scrape(metrics)
    assert bot.closed_reason == "auth_failure"
    assert value(found, "agentbot_login_failures_total", bot="bot-a", reason="auth_failure") == 1
    assert value(found, "agentbot_connection_up", bot="bot-a") == 0.0


FAQ = """\
[[entry]]
id = "hours"
question = "What are your opening hours?"
alternatives = ["When are you open?"]
answer = "We are open 9-17."

[[entry]]
id = "shipping"
question = "How much does shipping cost?"
answer = "Shipping is 5 EUR."

[[entry]]
id = "shipping-time"
question = "How long does shipping take?"
answer = "2-4 days."
"""


async def test_the_faq_plugin_counts_each_decision_by_kind(
    tmp_path: Path, agentbot_harness: HarnessFactory
) -> None:
    faq_file = tmp_path / "faq.toml"
    faq_file.write_text(FAQ, encoding="utf-8")
    options = {"file": str(faq_file), "follow_up": True, "clarify_threshold": 0.3}
    options["lead_threshold"] = 1.0  # "shipping info" fits both shipping entries: ask
    metrics = Metrics()
    async with agentbot_harness(config={"plugins": {"faq": options}}) as h:
        h.bot.observer = metrics.add_bot("bot-a", h.bot)
        ada, bo, cy = [await h.visitor(name) for name in ("Ada", "Bo", "Cy")]
        for visitor, text in [
            (ada, "when are you open"),  # answer
            (ada, "no"),  # follow_up: the answer to "did that answer your question?"
            (bo, "shipping info"),  # clarify: "did you mean…?"
            (cy, "what's the weather like in Prague"),  # silent
        ]:
            await visitor.say(text)
            await h.advance(30)  # virtual: the paced reply is out
        found = await scrape(metrics)
    for kind in ("answer", "follow_up", "clarify", "silent"):
        counted = value(found, "agentbot_faq_decisions_total", bot="bot-a", kind=kind)
        assert counted == 1, kind


class Hangs:
    @hookimpl
    async def on_visitor_message(self, text: str) -> Reply | None:
        await anyio.sleep_forever()
        return None


async def test_a_hook_past_its_time_budget_counts_as_a_plugin_timeout() -> None:
    metrics = Metrics()
    runtime = {"hook_timeout_seconds": 0.2}  # real time: the hang guard watches the process
    async with bot_on_sandbox(4, Echo(), Hangs(), in_process=True, runtime=runtime) as h:
        metrics.add_bot("bot-a", h.bot)
        chat_id, _, _ = h.write("hello")
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))  # Echo still answers
        found = await scrape(metrics)
    assert value(found, "agentbot_plugin_timeouts_total", bot="bot-a", plugin="p1") == 1
    assert value(found, "agentbot_plugin_timeouts_total", bot="bot-a", plugin="p0") is None


async def test_the_outbox_depth_is_the_reply_waiting_out_its_pacing() -> None:
    metrics = Metrics()
    clock = VirtualClock()  # held: the reply stays planned until the test advances it
    async with bot_on_sandbox(4, Echo(), in_process=True, clock=clock) as h:
        metrics.add_bot("bot-a", h.bot)
        chat_id, _, _ = h.write("hello")
        await clock.wait_sleepers(1)
        await eventually(lambda: h.bot.ledger.depth() == 1)
        waiting = await scrape(metrics)
        await clock.advance(60)
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))
        await eventually(lambda: h.bot.ledger.depth() == 0)
        sent = await scrape(metrics)
    assert value(waiting, "agentbot_outbox_depth", bot="bot-a") == 1
    assert value(sent, "agentbot_outbox_depth", bot="bot-a") == 0


async def test_the_per_chat_loop_guard_counts_a_rate_limit_drop() -> None:
    metrics = Metrics()
    runtime = {"max_replies_per_chat_per_minute": 1}
    async with bot_on_sandbox(4, Echo(), in_process=True, runtime=runtime) as h:
        metrics.add_bot("bot-a", h.bot)
        chat_id, _, _ = h.write("one")
        await h.wait(lambda: ("typing", False) in h.wire(chat_id))
        before = await scrape(metrics)
        h.write("two")
        await eventually(lambda: h.bot.stats["loop_guard"] == 1)
        after = await scrape(metrics)
    drops = "agentbot_rate_limit_drops_total"
    assert value(before, drops, bot="bot-a", limit="per_chat") == 0
    assert value(after, drops, bot="bot-a", limit="per_chat") == 1
