"""after_hours on the sandbox: away message once, e-mail capture, busy, track_visitors.

The tests run the shipped harness; after_hours loads from its entry point and reads the
bot's wall time, which the harness starts at a given moment (``wall_time``) and moves with
the virtual clock, so "Saturday night" is a value, not a wait.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import anyio
import pytest

from agentbot.testing import BotHarness, HarnessFactory, SimulatedVisitor
from agentbot_plugins._shared.leads import Outbox, WebhookConfig

from .webhook_app import WebhookApp, serving

PRAGUE = zoneinfo.ZoneInfo("Europe/Prague")
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 22, 0, tzinfo=PRAGUE).timestamp()
THURSDAY_MORNING = dt.datetime(2026, 11, 26, 10, 0, tzinfo=PRAGUE).timestamp()
CHRISTMAS_EVE_MORNING = dt.datetime(2026, 12, 24, 10, 0, tzinfo=PRAGUE).timestamp()
OPTIONS: dict[str, Any] = {"timezone": "Europe/Prague", "holidays_country": "CZ"}

AWAY = (
    "Thanks for your message! Our team is away right now and will reply as soon as we are "
    "back.\n\nLeave your e-mail address here and we will get back to you."
)


PACE = 30.0  # virtual seconds for the bot to send what it paced (8 s a message at most)


def at(factory: HarnessFactory, moment: float, plugins: dict[str, Any], **smartsupp: Any) -> Any:
    return factory(config={"smartsupp": smartsupp, "plugins": plugins}, wall_time=moment)


def texts(visitor: SimulatedVisitor) -> list[str]:
    return [reply.text for reply in visitor.replies()]


async def say(h: BotHarness, visitor: SimulatedVisitor, text: str) -> None:
    await visitor.say(text)
    await h.advance(PACE)


async def test_closed_says_away_once_corrects_a_typo_and_stores_the_lead(
    agentbot_harness: HarnessFactory,
) -> None:
    async with at(agentbot_harness, SATURDAY_NIGHT, {"after_hours": OPTIONS}) as h:
        visitor = await h.visitor()
        await say(h, visitor, "hello?")
        await say(h, visitor, "anyone there?")
        await say(h, visitor, "ada@example")
        await say(h, visitor, "sorry, it is ada@example.com")
        await say(h, visitor, "thanks!")
        messages = texts(visitor)
        store = h.plugin_storage("after_hours")
        records = [store.get(key) for key in store.keys("outbox:")]
    assert messages == [
        AWAY,
        "Hmm, that does not look like an e-mail address. Could you check it?",
        "Thank you! We will write to ada@example.com as soon as we can.",
    ]
    (record,) = records
    assert record["delivered_at"] is None  # no webhook configured: kept in storage
    assert record["payload"]["email"] == "ada@example.com"
    assert record["payload"]["chat_id"] == visitor.chat_id
    assert record["payload"]["source"] == "after_hours"
    assert record["payload"]["messages"] == [
        "hello?",
        "anyone there?",
        "ada@example",
        "sorry, it is ada@example.com",
    ]


async def test_public_holiday_counts_as_closed(agentbot_harness: HarnessFactory) -> None:
    options = {**OPTIONS, "ask_email": False}
    async with at(agentbot_harness, CHRISTMAS_EVE_MORNING, {"after_hours": options}) as h:
        visitor = await h.visitor()
        await say(h, visitor, "hi")
        messages = texts(visitor)
    assert messages == [AWAY.split("\n\n")[0]]


async def test_open_but_nobody_online_says_busy(agentbot_harness: HarnessFactory) -> None:
    async with at(agentbot_harness, THURSDAY_MORNING, {"after_hours": OPTIONS}) as h:
        assert h.bot.humans_online() == ()
        visitor = await h.visitor()
        await say(h, visitor, "hi")
        messages = texts(visitor)
    assert messages[0].startswith("Thanks for your message! All our colleagues are busy")


async def test_open_hours_without_the_no_human_trigger_stay_silent(
    agentbot_harness: HarnessFactory,
) -> None:
    options = {**OPTIONS, "when_no_human_online": False}
    async with at(agentbot_harness, THURSDAY_MORNING, {"after_hours": options}) as h:
        visitor = await h.visitor()
        await say(h, visitor, "hi")
        await say(h, visitor, "my email is ada@example.com")
        messages = texts(visitor)
        leads = h.plugin_storage("after_hours").keys("outbox:")
    assert messages == []
    assert leads == []


async def test_greeter_and_faq_still_answer_next_to_the_away_message(
    agentbot_harness: HarnessFactory, tmp_path: Any
) -> None:
    faq = tmp_path / "faq.toml"
    faq.write_text(
        '[[entry]]\nquestion = "What are your opening hours?"\nanswer = "Mon-Fri 9-17."\n',
        encoding="utf-8",
    )
    sections = {"faq": {"file": str(faq)}, "after_hours": {**OPTIONS, "ask_email": False}}
    async with at(agentbot_harness, SATURDAY_NIGHT, sections) as h:
        visitor = await h.visitor()
        await say(h, visitor, "what are your opening hours?")
        messages = texts(visitor)
    assert messages == ["Mon-Fri 9-17.", AWAY.split("\n\n")[0]]


async def test_track_visitors_follows_the_schedule(agentbot_harness: HarnessFactory) -> None:
    options = {**OPTIONS, "track_visitors_when_open": True, "track_visitors_when_closed": False}
    async with at(agentbot_harness, THURSDAY_MORNING, {"after_hours": options}) as h:
        assert h.bot.track_visitors
        connections = h.control.connections(side="agent", agent_id=h.bot_id)["connections"]
        assert any(c["trackVisitors"] for c in connections)
    plugins = {"after_hours": options}
    async with at(agentbot_harness, SATURDAY_NIGHT, plugins, track_visitors=True) as h:
        assert not h.bot.track_visitors


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn serves the webhook
async def test_a_lead_reaches_the_webhook_in_the_background(
    agentbot_harness: HarnessFactory,
) -> None:
    app = WebhookApp(failures=1)  # the first attempt fails: the retry delivers it
    async with serving(app) as base:
        # No idle_check_seconds: the idle delivery loop waits for the next lead without a
        # deadline (bot.wait_for), and the harness still settles around it.
        webhook = {"url": f"{base}/leads", "retry_initial_seconds": 5}
        options = {**OPTIONS, "webhook": webhook}
        # Wall time moves with the virtual clock, so the retry falls due within the pace.
        async with at(agentbot_harness, SATURDAY_NIGHT, {"after_hours": options}) as h:
            visitor = await h.visitor()
            await say(h, visitor, "hi")
            await say(h, visitor, "ada@example.com")
            messages = texts(visitor)
            with anyio.fail_after(10):
                await app.wait_attempts(2)
            await h.settle()
            store = h.plugin_storage("after_hours")
            assert not Outbox(store, config=WebhookConfig()).pending()
    assert messages[-1] == "Thank you! We will write to ada@example.com as soon as we can."
    (payload,) = app.received
    assert payload["event"] == "lead"
    assert payload["email"] == "ada@example.com"
    assert payload["chat_id"] == visitor.chat_id
