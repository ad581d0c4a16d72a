"""/metrics, /healthz and /readyz of a real bot logged in to the sandbox.

The bot is the real Bot and AgentClient on the sandbox (in-process ASGI, so both backends;
the end-to-end tests' own set-up, shared so the two never drift apart); the operations
server listens on a real loopback port and is scraped with httpx; the exposition is parsed
with prometheus_client's own parser, so a malformed exposition fails here as it would fail
Prometheus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from prometheus_client.parser import text_string_to_metric_families

from agentbot import Reply, hookimpl
from agentbot.runtime.metrics import Metrics
from agentbot.runtime.ops_server import OpsServer, parse_listen

from .test_e2e_sandbox import Echo, bot_on_sandbox


class Broken:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        raise RuntimeError("plugin bug")


@asynccontextmanager
async def ops(metrics: Metrics) -> AsyncIterator[tuple[OpsServer, httpx.AsyncClient]]:
    server = OpsServer(metrics, host="127.0.0.1", port=0)
    async with anyio.create_task_group() as tg:
        port = await tg.start(server.serve)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield server, http
        tg.cancel_scope.cancel()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


async def test_metrics_of_a_logged_in_bot_parse_and_count_what_happened() -> None:
    metrics = Metrics()
    async with bot_on_sandbox(4, Echo(), Broken(), in_process=True) as h:
        handle = metrics.add_bot("bot-a", h.bot)
        async with ops(metrics) as (_server, http):
            chat_id, _, _ = h.write("hello")
            await h.wait(lambda: ("typing", False) in h.wire(chat_id))
            handle.replied("p0")
            handle.reply_latency(2.5)
            handle.typing(1.5)
            handle.event("chat.message")
            response = await http.get("/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            found = samples(response.text)
    assert value(found, "agentbot_connection_up", bot="bot-a") == 1.0
    assert value(found, "agentbot_runtime_total", bot="bot-a", counter="sent") == 1.0
    assert value(found, "agentbot_runtime_total", bot="bot-a", counter="events") >= 1
    assert value(found, "agentbot_plugin_errors_total", bot="bot-a", plugin="p1") == 1.0
    assert value(found, "agentbot_rate_limit_drops_total", bot="bot-a", limit="per_chat") == 0
    assert value(found, "agentbot_replies_total", bot="bot-a", plugin="p0") == 1.0
    assert value(found, "agentbot_events_total", bot="bot-a", event="chat.message") == 1.0
    assert value(found, "agentbot_typing_seconds_count", bot="bot-a") == 1.0
    assert value(found, "agentbot_typing_seconds_bucket", bot="bot-a", le="2.0") == 1.0
    assert value(found, "agentbot_reply_latency_seconds_count", bot="bot-a") == 1.0
    assert value(found, "agentbot_reconnects_total", bot="bot-a") == 0.0


async def test_readyz_says_ready_only_while_the_bot_is_logged_in() -> None:
    metrics = Metrics()
    async with ops(metrics) as (server, http):
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert "no bot is running" in response.json()["reasons"]
        assert (await http.get("/healthz")).json() == {"alive": True}
        async with bot_on_sandbox(4, Echo(), in_process=True) as h:
            metrics.add_bot("bot-a", h.bot)
            response = await http.get("/readyz")
            assert response.status_code == 200, response.text
            assert response.json()["bots"] == {"bot-a": {"logged_in": True}}
            assert server.last_tick is not None
            # A loop that stopped ticking (something blocks it) is not ready.
            server.last_tick -= 60
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert "behind" in " ".join(response.json()["reasons"])
            server.last_tick += 60
        response = await http.get("/readyz")  # the bot stopped
        assert response.status_code == 503
        assert "bot bot-a is not logged in" in response.json()["reasons"]


async def test_openmetrics_is_served_when_asked_for_and_unknown_paths_are_404() -> None:
    metrics = Metrics()
    async with ops(metrics) as (_server, http):
        response = await http.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        )
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        assert response.text.rstrip().endswith("# EOF")
        assert (await http.get("/nope")).status_code == 404
        assert (await http.post("/metrics")).status_code == 405
        # Keep-alive: several requests on one connection.
        for _ in range(3):
            assert (await http.get("/healthz")).status_code == 200


def test_listen_is_split_into_host_and_port() -> None:
    assert parse_listen("127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert parse_listen("[::1]:9108") == ("::1", 9108)


async def test_the_runtime_itself_feeds_the_histograms_and_event_counts() -> None:
    # No hand-made observations: the bot's own call sites (dispatch, the actor's typing, the
    # chat's "sent") must produce these.
    metrics = Metrics()
    async with bot_on_sandbox(4, Echo(), in_process=True) as h:
        h.bot.observer = metrics.add_bot("bot-a", h.bot)
        async with ops(metrics) as (_server, http):
            chat_id, _, _ = h.write("hello")
            await h.wait(lambda: ("typing", False) in h.wire(chat_id))
            found = samples((await http.get("/metrics")).text)
    assert value(found, "agentbot_replies_total", bot="bot-a", plugin="p0") == 1.0
    events = value(found, "agentbot_events_total", bot="bot-a", event="chat.message_received")
    assert events is not None
    assert events >= 1
    assert value(found, "agentbot_typing_seconds_count", bot="bot-a") == 1.0
    assert value(found, "agentbot_reply_latency_seconds_count", bot="bot-a") == 1.0
