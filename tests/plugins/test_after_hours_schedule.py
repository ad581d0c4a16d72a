"""after_hours' pure parts: opening hours, holidays, DST, config validation, e-mail checks."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from agentbot import ConfigError
from agentbot.testing import HarnessFactory
from agentbot_plugins._shared.capture import LeadCapture
from agentbot_plugins._shared.leads import WebhookConfig, find_email, is_valid_email
from agentbot_plugins.after_hours import AfterHoursConfig, Schedule, ScheduleError
from agentbot_plugins.after_hours.schedule import parse_ranges

PRAGUE = zoneinfo.ZoneInfo("Europe/Prague")
WEEKDAYS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-12:00, 13:00-17:00")


def at(*args: int, tz: zoneinfo.ZoneInfo = PRAGUE) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)  # type: ignore[misc]


@pytest.fixture
def shop() -> Schedule:
    return Schedule.build(
        timezone="Europe/Prague",
        hours={**WEEKDAYS, "sat": "10:00-13:00"},
        country="CZ",
        closed_dates=["2026-11-27"],
    )


def test_ranges_parse_and_reject_nonsense() -> None:
    assert parse_ranges("09:00-12:00, 13:00-24:00") == ((540, 720), (780, 1440))
    assert parse_ranges("") == ()
    for bad in ("9-17", "17:00-09:00", "09:00-12:00, 11:00-13:00", "09:60-10:00", "00:00-25:00"):
        with pytest.raises(ScheduleError):
            parse_ranges(bad)


def test_open_within_hours_closed_at_lunch_nights_and_sundays(shop: Schedule) -> None:
    assert shop.is_open(at(2026, 11, 26, 9, 0))  # Thursday
    assert not shop.is_open(at(2026, 11, 26, 8, 59))
    assert not shop.is_open(at(2026, 11, 26, 12, 30))  # lunch
    assert not shop.is_open(at(2026, 11, 26, 17, 0))  # ranges are half-open
    assert shop.is_open(at(2026, 11, 28, 11, 0))  # Saturday morning
    assert not shop.is_open(at(2026, 11, 29, 11, 0))  # Sunday


def test_moments_in_other_zones_are_converted(shop: Schedule) -> None:
    utc = zoneinfo.ZoneInfo("UTC")
    assert shop.is_open(at(2026, 11, 26, 8, 30, tz=utc))  # 09:30 in Prague (CET)
    assert shop.is_open(at(2026, 11, 26, 8, 30, tz=utc).timestamp())  # epoch seconds too
    with pytest.raises(ScheduleError, match="naive"):
        shop.is_open(dt.datetime(2026, 11, 26, 10, 0))


def test_public_holidays_and_closed_dates(shop: Schedule) -> None:
    assert not shop.is_open(at(2026, 12, 24, 10, 0))  # Štědrý den, a Thursday
    assert shop.closed_all_day(dt.date(2026, 12, 24))
    assert not shop.is_open(at(2026, 11, 27, 10, 0))  # a configured closed Friday
    assert shop.closed_all_day(dt.date(2026, 11, 27)) == "closed date"


def test_regional_holidays_need_the_region() -> None:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00")
    bavaria = Schedule.build(timezone="Europe/Berlin", hours=hours, country="DE", subdivision="BY")
    berlin = Schedule.build(timezone="Europe/Berlin", hours=hours, country="DE", subdivision="BE")
    epiphany = dt.datetime(2026, 1, 6, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert not bavaria.is_open(epiphany)
    assert berlin.is_open(epiphany)


def test_next_change_skips_the_weekend_and_holidays(shop: Schedule) -> None:
    assert shop.next_change(at(2026, 11, 26, 10, 0)) == at(2026, 11, 26, 12, 0)
    assert shop.next_change(at(2026, 11, 26, 17, 30)) == at(2026, 11, 28, 10, 0)  # Fri closed
    assert shop.next_change(at(2026, 12, 23, 18, 0)) == at(2026, 12, 28, 9, 0)  # 24.-26. hol.


def test_next_change_across_a_dst_switch() -> None:
    always = {day: "00:00-24:00" for day in ("sat", "sun")}
    weekend = Schedule.build(timezone="Europe/Prague", hours=always)
    # Clocks go 02:00 → 03:00 on 2026-03-29; the weekend still ends at local midnight.
    change = weekend.next_change(at(2026, 3, 28, 12, 0))
    assert change == at(2026, 3, 30, 0, 0)
    assert change is not None
    assert change.utcoffset() == dt.timedelta(hours=2)


def test_never_open_has_no_next_change() -> None:
    assert Schedule.build(timezone="UTC", hours={}).next_change(0.0) is None


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"hours": {"mon": "9-5"}}, "hours"),
        ({"hours": {"funday": "09:00-10:00"}}, "hours"),
        ({"holidays_country": "XX"}, "holidays_country"),
        ({"closed_dates": ["24.12.2026"]}, "closed_dates"),
    ],
)
async def test_bad_options_are_config_errors_naming_the_key(
    agentbot_harness: HarnessFactory, options: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"\[plugins.after_hours\] {key}: ") as caught:
        async with agentbot_harness(config={"plugins": {"after_hours": options}}):
            pass
    assert caught.value.key == key


async def test_webhook_url_is_a_secret_in_errors_and_reprs(
    agentbot_harness: HarnessFactory,
) -> None:
    secret = "https://hooks.example/T0KEN"
    config = AfterHoursConfig(webhook=WebhookConfig(url=secret))
    assert "T0KEN" not in repr(config)
    options = {"webhook": {"url": "ftp://x/T0KEN"}}
    with pytest.raises(ConfigError) as caught:
        async with agentbot_harness(config={"plugins": {"after_hours": options}}):
            pass
    assert "T0KEN" not in str(caught.value)


# -- e-mail addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "a.b+tag@mail.example.co.uk",
        "jana.novakova@seznam.cz",
        "x@xn--80ak6aa92e.com",
    ],
)
def test_valid_addresses(address: str) -> None:
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada@exa mple.com",
        "a..b@example.com",
        ".ada@example.com",
        "ada@-example.com",
        "ada@example.c",
        "a" * 65 + "@x.com",
    ],
)
def test_invalid_addresses(address: str) -> None:
    assert not is_valid_email(address)


def test_find_email_in_a_sentence() -> None:
    assert find_email("sure, it's ada@example.com.") == ("ada@example.com", True)
    assert find_email("write to <ada@example.com>, thanks") == ("ada@example.com", True)
    assert find_email("ada@example") == (None, True)
    assert find_email("no address here") == (None, False)


def test_capture_corrects_only_after_asking_and_takes_one_address() -> None:
    capture = LeadCapture(max_corrections=1)
    assert capture.handle("c", "price @ 5 EUR?", listening=False).outcome == "none"
    capture.mark_asked("c")
    assert capture.handle("c", "ada@example", listening=True).outcome == "invalid"
    assert capture.handle("c", "ada@exampl", listening=True).outcome == "none"  # nagged once
    result = capture.handle("c", "ada@example.com", listening=True)
    assert result.outcome == "captured"
    assert result.messages == ("price @ 5 EUR?", "ada@example", "ada@exampl", "ada@example.com")
    assert capture.handle("c", "bob@example.com", listening=True).outcome == "none"
