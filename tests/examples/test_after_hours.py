"""examples/after_hours/bot.toml, run as written in the harness at chosen moments.

The plugin is the installed built-in, configured by the example's own [plugins.after_hours]
section; only its wall clock is pinned (so "Saturday night in Prague" is a value, not a
wait), which is how a test fixes the time for a plugin that reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from agentbot.testing import HarnessFactory
from agentbot_plugins.after_hours import AfterHours

BOT_TOML = Path(__file__).resolve().parent.parent.parent / "examples/after_hours/bot.toml"
PRAGUE = zoneinfo.ZoneInfo("Europe/Prague")
AWAY = (
    "Thanks for writing, Ada! We are out of the office (Mon-Thu 9-17, Fri 9-15, Prague time) "
    "and will reply as soon as we are back."
    "\n\nLeave your e-mail address here and we will get back to you."
)


async def run_at(agentbot_harness: HarnessFactory, moment: dt.datetime) -> list[str]:
    """Ada writes at ``moment``, leaves her address; return what the bot said."""
    plugin = AfterHours(wall_clock=moment.timestamp)
    async with agentbot_harness(
        plugins={"after_hours": plugin}, config=BOT_TOML, wall_time=moment
    ) as harness:
        ada = await harness.visitor("Ada Lovelace")
        await ada.say("Hello, is anyone there?")
        said = [(await ada.next_reply()).text]
        await ada.say("Please write to ada@example.com")
        said.append((await ada.next_reply()).text)
        await ada.expect_no_reply()
        store = harness.plugin_storage("after_hours")
        (lead,) = [store.get(key) for key in store.keys("outbox:")]
        assert lead["payload"]["email"] == "ada@example.com"
        assert lead["delivered_at"] is None  # no webhook in the example: kept in storage
    return said


async def test_saturday_night_gets_the_away_message_and_a_lead_form(
    agentbot_harness: HarnessFactory,
) -> None:
    said = await run_at(agentbot_harness, dt.datetime(2026, 11, 28, 22, 0, tzinfo=PRAGUE))
    assert said == [AWAY, "Thank you! We will write to ada@example.com as soon as we can."]


async def test_a_czech_holiday_and_an_extra_closed_date_are_closed(
    agentbot_harness: HarnessFactory,
) -> None:
    for day in (dt.date(2026, 10, 28), dt.date(2026, 12, 31)):  # Statehood Day; closed_dates
        moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=PRAGUE)
        assert (await run_at(agentbot_harness, moment))[0] == AWAY


async def test_within_hours_with_nobody_online_the_bot_covers_as_busy(
    agentbot_harness: HarnessFactory,
) -> None:
    said = await run_at(agentbot_harness, dt.datetime(2026, 11, 26, 10, 0, tzinfo=PRAGUE))
    assert said[0].startswith("Thanks for your message! All our colleagues are busy")
