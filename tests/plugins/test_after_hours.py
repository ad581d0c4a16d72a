"""after_hours on the sandbox: away message once, e-mail capture, busy, track_visitors.

The plugin reads wall time from a fixed moment given to it (its ``wall_clock``), so
"Saturday night" is a value, not a wait.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import anyio
import pytest

from agentbot.runtime.clock import VirtualClock
from agentbot_plugins._shared.leads import Outbox, WebhookConfig
from agentbot_plugins.after_hours import AfterHours

from .conftest import bot_with
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


def plugin_at(moment: float) -> list[tuple[str, object]]:
    return [("after_hours", AfterHours(wall_clock=lambda: moment))]


async def test_closed_says_away_once_corrects_a_typo_and_stores_the_lead() -> None:
    async with bot_with({"after_hours": OPTIONS}, extra=plugin_at(SATURDAY_NIGHT)) as h:
        chat_id = await h.say("hello?", visitor="")
        await h.say("anyone there?", visitor="")
        await h.say("ada@example", visitor="")
        await h.say("sorry, it is ada@example.com", visitor="")
        await h.say("thanks!", visitor="")
        messages = h.bot_messages(chat_id)
        store = h.bot.plugin_storage("after_hours")
        records = [store.get(key) for key in store.keys("outbox:")]
    assert messages == [
        AWAY,
        "Hmm, that does not look like an e-mail address. Could you check it?",
        "Thank you! We will write to ada@example.com as soon as we can.",
    ]
    (record,) = records
    assert record["delivered_at"] is None  # no webhook configured: kept in storage
    assert record["payload"]["email"] == "ada@example.com"
    assert record["payload"]["chat_id"] == chat_id
    assert record["payload"]["source"] == "after_hours"
    assert record["payload"]["messages"] == [
        "hello?",
        "anyone there?",
        "ada@example",
        "sorry, it is ada@example.com",
    ]


async def test_public_holiday_counts_as_closed() -> None:
    options = {**OPTIONS, "ask_email": False}
    async with bot_with({"after_hours": options}, extra=plugin_at(CHRISTMAS_EVE_MORNING)) as h:
        chat_id = await h.say("hi", visitor="")
        messages = h.bot_messages(chat_id)
    assert messages == [AWAY.split("\n\n")[0]]


async def test_open_but_nobody_online_says_busy() -> None:
    async with bot_with({"after_hours": OPTIONS}, extra=plugin_at(THURSDAY_MORNING)) as h:
        assert h.bot.humans_online() == ()
        chat_id = await h.say("hi", visitor="")
        messages = h.bot_messages(chat_id)
    assert messages[0].startswith("Thanks for your message! All our colleagues are busy")


async def test_open_hours_without_the_no_human_trigger_stay_silent() -> None:
    options = {**OPTIONS, "when_no_human_online": False}
    async with bot_with({"after_hours": options}, extra=plugin_at(THURSDAY_MORNING)) as h:
        chat_id = await h.say("hi", visitor="")
        await h.say("my email is ada@example.com", visitor="")
        messages = h.bot_messages(chat_id)
        leads = h.bot.plugin_storage("after_hours").keys("outbox:")
    assert messages == []
    assert leads == []


async def test_greeter_and_faq_still_answer_next_to_the_away_message(tmp_path: Any) -> None:
    faq = tmp_path / "faq.toml"
    faq.write_text(
        '[[entry]]\nquestion = "What are your opening hours?"\nanswer = "Mon-Fri 9-17."\n',
        encoding="utf-8",
    )
    sections = {"faq": {"file": str(faq)}, "after_hours": {**OPTIONS, "ask_email": False}}
    async with bot_with(sections, extra=plugin_at(SATURDAY_NIGHT)) as h:
        chat_id = await h.say("what are your opening hours?", visitor="")
        messages = h.bot_messages(chat_id)
    assert messages == ["Mon-Fri 9-17.", AWAY.split("\n\n")[0]]


async def test_track_visitors_follows_the_schedule() -> None:
    options = {**OPTIONS, "track_visitors_when_open": True, "track_visitors_when_closed": False}
    async with bot_with({"after_hours": options}, extra=plugin_at(THURSDAY_MORNING)) as h:
        await h.wait_bot(lambda: h.bot.track_visitors)
        await h.wait(
            lambda: any(
                c["trackVisitors"]
                for c in h.control.connections(side="agent", agent_id=h.bot_id)["connections"]
            )
        )
    async with bot_with(
        {"after_hours": options}, extra=plugin_at(SATURDAY_NIGHT), track_visitors=True
    ) as h:
        await h.wait_bot(lambda: not h.bot.track_visitors)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn serves the webhook
async def test_a_lead_reaches_the_webhook_in_the_background() -> None:
    app = WebhookApp(failures=1)  # the first attempt fails: the retry delivers it
    async with serving(app) as base:
        options = {**OPTIONS, "webhook": {"url": f"{base}/leads", "retry_initial_seconds": 5}}
        clock = VirtualClock(autojump=True)  # wall time moves with it, so the retry falls due
        plugin = AfterHours(wall_clock=lambda: SATURDAY_NIGHT + clock.now())
        extra: list[tuple[str, object]] = [("after_hours", plugin)]
        async with bot_with({"after_hours": options}, extra=extra, clock=clock) as h:
            chat_id = await h.say("hi", visitor="")
            await h.say("ada@example.com", visitor="")
            messages = h.bot_messages(chat_id)
            with anyio.fail_after(10):
                await app.wait_attempts(2)
            store = h.bot.plugin_storage("after_hours")
            await h.wait_bot(lambda: not Outbox(store, config=WebhookConfig()).pending())
    assert messages[-1] == "Thank you! We will write to ada@example.com as soon as we can."
    (payload,) = app.received
    assert payload["event"] == "lead"
    assert payload["email"] == "ada@example.com"
    assert payload["chat_id"] == chat_id
