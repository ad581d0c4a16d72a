"""Leads: stored before anything else, POSTed to a real local webhook, retried, never lost.

The webhook is a tiny ASGI app under uvicorn on 127.0.0.1 (asyncio only). Retry timing
runs on a VirtualClock: the delivery loop's sleeps are recorded, never spent.
"""

from __future__ import annotations

import socket
from typing import Any

import anyio
import attrs
import pytest

from agentbot.runtime.clock import VirtualClock, wait_for
from agentbot.runtime.storage import MEMORY, Storage
from agentbot_plugins._shared.leads import (
    DeliveryLoop,
    Lead,
    Outbox,
    WebhookConfig,
    WebhookError,
    WebhookSender,
)

from .webhook_app import WebhookApp, serving

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn

EPOCH = 1_790_000_000.0


def lead(number: int = 1) -> Lead:
    return Lead(
        id=f"lead-{number}",
        email=f"v{number}@example.com",
        source="after_hours",
        chat_id="c1",
        messages=("hello", f"v{number}@example.com"),
        created_at=EPOCH,
    )


@pytest.fixture
def store() -> Any:
    with Storage(MEMORY) as storage:
        yield storage.plugin_store("after_hours")


def unused_url() -> str:
    """A URL on 127.0.0.1 nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@asyncio_only
async def test_a_lead_is_posted_as_json_with_the_configured_headers(store: Any) -> None:
    app = WebhookApp()
    async with serving(app) as base:
        config = WebhookConfig(url=f"{base}/hook", headers={"Authorization": "Bearer s3cret"})
        outbox = Outbox(store, config=config)
        outbox.add(lead())
        assert await outbox.deliver_due(WebhookSender(config), now=EPOCH) is None
    assert app.received == [lead().as_json()]
    assert app.headers[0]["authorization"] == "Bearer s3cret"
    (record,) = outbox.records()
    assert record["delivered_at"] == EPOCH
    assert outbox.pending() == []


@asyncio_only
async def test_a_failing_webhook_keeps_the_lead_and_backs_off(store: Any) -> None:
    app = WebhookApp(failures=2)
    async with serving(app) as base:
        config = WebhookConfig(url=f"{base}/hook", retry_initial_seconds=5)
        outbox = Outbox(store, config=config)
        sender = WebhookSender(config)
        outbox.add(lead())
        assert await outbox.deliver_due(sender, now=EPOCH) == EPOCH + 5
        assert await outbox.deliver_due(sender, now=EPOCH + 1) == EPOCH + 5  # not due yet
        assert app.attempts == 1
        assert await outbox.deliver_due(sender, now=EPOCH + 5) == EPOCH + 15
        (pending,) = outbox.pending()
        assert pending["attempts"] == 2
        assert pending["last_error"] == "webhook answered HTTP 500"
        assert await outbox.deliver_due(sender, now=EPOCH + 15) is None
    assert [r["id"] for r in app.received] == ["lead-1"]


@asyncio_only
async def test_an_unreachable_webhook_is_a_clear_error_without_the_url(store: Any) -> None:
    url = unused_url()
    sender = WebhookSender(WebhookConfig(url=url, timeout_seconds=2))
    with pytest.raises(WebhookError) as caught:
        await sender.post({"id": "x"})
    assert "127.0.0.1" not in str(caught.value)
    outbox = Outbox(store, config=sender.config)
    outbox.add(lead())
    await outbox.deliver_due(sender, now=EPOCH)
    assert len(outbox.pending()) == 1


def test_backoff_doubles_up_to_the_cap(store: Any) -> None:
    outbox = Outbox(store, config=WebhookConfig(retry_initial_seconds=5, retry_max_seconds=30))
    assert [outbox.backoff(n) for n in range(1, 6)] == [5, 10, 20, 30, 30]


def test_leads_survive_a_restart_of_the_store(tmp_path: Any) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        Outbox(storage.plugin_store("after_hours"), config=WebhookConfig()).add(lead())
    with Storage(path) as storage:
        (record,) = Outbox(storage.plugin_store("after_hours"), config=WebhookConfig()).pending()
    assert Lead.from_json(record["payload"]) == lead()


class ClockBot:
    """Just the PluginBot facilities the delivery loop uses, on a VirtualClock."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.now()

    async def sleep_until(self, deadline: float) -> None:
        await self.clock.sleep_until(deadline)

    async def wait_for(self, event: anyio.Event, *, deadline: float | None = None) -> bool:
        return await wait_for(self.clock, event, deadline=deadline)

    def wall_time(self) -> float:
        return EPOCH + self.clock.now()

    def start_soon(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("not used")


@asyncio_only
async def test_delivery_loop_retries_on_the_clock_and_wakes_for_new_leads(store: Any) -> None:
    app = WebhookApp(failures=2)
    clock = VirtualClock()
    async with serving(app) as base:
        config = WebhookConfig(url=f"{base}/hook", retry_initial_seconds=5, idle_check_seconds=300)
        outbox = Outbox(store, config=config)
        loop = DeliveryLoop(outbox, WebhookSender(config))
        async with anyio.create_task_group() as tg:
            tg.start_soon(loop.run, ClockBot(clock))
            await clock.wait_sleepers(1)  # nothing pending: asleep until woken (or 300 s)
            outbox.add(lead(1))
            with anyio.fail_after(10):
                await app.wait_attempts(1)
                await clock.wait_sleepers(1)
            assert clock.next_deadline() == 5  # backing off, not blocking anything
            await clock.advance(5)
            with anyio.fail_after(10):
                await app.wait_attempts(2)
                await clock.wait_sleepers(1)
            assert clock.next_deadline() == 15
            await clock.advance(10)
            with anyio.fail_after(10):
                await app.wait_attempts(3)
                await clock.wait_sleepers(1)
            outbox.add(lead(2))  # a new lead is sent at once, without waiting
            with anyio.fail_after(10):
                await app.wait_attempts(4)
                await clock.wait_sleepers(1)  # delivered, recorded, asleep again
            tg.cancel_scope.cancel()
    assert [r["id"] for r in app.received] == ["lead-1", "lead-2"]
    assert outbox.pending() == []


def test_a_webhook_url_httpx_cannot_parse_is_a_config_error_without_the_url() -> None:
    # Starting with https:// was enough; the first lead then killed the delivery loop.
    with pytest.raises(ValueError, match="not a valid URL") as caught:
        WebhookConfig(url="https://hooks.example.com:8o8o/lead?token=S3CRET")
    assert "S3CRET" not in str(caught.value)


def test_a_webhook_header_httpx_cannot_send_is_a_config_error_without_its_value() -> None:
    with pytest.raises(ValueError, match="must be ASCII") as caught:
        WebhookConfig(
            url="https://hooks.example.com/lead", headers={"Authorization": "Bearer tökén"}
        )
    assert "tökén" not in str(caught.value)


async def test_a_request_httpx_cannot_build_keeps_the_lead_and_backs_off(store: Any) -> None:
    # Built around the config check (e.g. by a plugin): the delivery loop must not die.
    with attrs.validators.disabled():
        config = WebhookConfig(url=unused_url(), headers={"X-Token": "tökén"})
    sender = WebhookSender(config)
    outbox = Outbox(store, config=config)
    outbox.add(lead())
    next_due = await outbox.deliver_due(sender, now=EPOCH)
    assert next_due is not None
    [pending] = outbox.pending()
    assert pending["attempts"] == 1
    assert "tökén" not in pending["last_error"]


def test_the_lead_capture_options_are_declared_once_for_both_plugins() -> None:
    from agentbot_plugins._shared.capture import LeadOptions
    from agentbot_plugins.after_hours import AfterHoursConfig
    from agentbot_plugins.handoff import HandoffConfig

    shared = {field.name for field in attrs.fields(LeadOptions)}
    assert shared == {
        "ask_email",
        "thanks_message",
        "invalid_email_message",
        "default_lang",
        "webhook",
    }
    for config_class in (AfterHoursConfig, HandoffConfig):
        fields = {field.name: field for field in attrs.fields(config_class)}
        assert {name for name in shared if fields[name].inherited} == shared, config_class
