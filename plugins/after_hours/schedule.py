"""Opening hours: weekly ranges in a time zone, public holidays, extra closed dates.

Pure (no clock of its own): every question takes the moment as an aware ``datetime`` or
epoch seconds, so tests check Christmas, DST changes and midnight without waiting for them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from collections.abc import Iterable, Mapping

import attrs
import holidays

__all__ = ["WEEKDAYS", "Schedule", "ScheduleError", "parse_ranges"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_LOOKAHEAD_DAYS = 400


class ScheduleError(ValueError):
    """Opening hours that make no sense: a bad range, zone, date or holiday country.

    ``field`` names the config key at fault (``timezone``, ``hours``, ``holidays_country``,
    ``closed_dates``) so the config error can point at it.
    """

    def __init__(self, message: str, *, field: str = "hours") -> None:
        self.field = field
        super().__init__(message)


def _minutes(hours: str, minutes: str, text: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ScheduleError(f"bad time in {text!r} (use HH:MM, 00:00-24:00)")
    return value


def parse_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Parse ``"09:00-12:00, 13:00-17:00"`` into minute ranges; ``""`` means closed all day.

    Ranges must not cross midnight (write ``"22:00-24:00"`` and ``"00:00-02:00"`` on the
    next day) and must not overlap.
    """
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        found = _RANGE.match(part)
        if found is None:
            raise ScheduleError(f"bad opening hours {part!r} (expected e.g. '09:00-17:00')")
        start = _minutes(found.group(1), found.group(2), part)
        end = _minutes(found.group(3), found.group(4), part)
        if end <= start:
            raise ScheduleError(f"{part!r} ends before it starts (split ranges at midnight)")
        ranges.append((start, end))
    ranges.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(ranges):
        if s2 < e1:
            raise ScheduleError(f"overlapping opening hours in {text!r}")
    return tuple(ranges)


@attrs.frozen(kw_only=True)
class Schedule:
    """When the business is open, in its own time zone."""

    timezone: zoneinfo.ZoneInfo
    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    """Weekday (0 = Monday) → minute ranges."""
    holidays: holidays.HolidayBase | None = None
    closed_dates: frozenset[dt.date] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        timezone: str,
        hours: Mapping[str, str],
        country: str | None = None,
        subdivision: str | None = None,
        closed_dates: Iterable[str] = (),
    ) -> Schedule:
        """Validate config values and build a schedule; raise :class:`ScheduleError`."""
        try:
            zone = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"unknown time zone {timezone!r} (e.g. 'Europe/Prague')", field="timezone"
            ) from None
        weekly: dict[int, tuple[tuple[int, int], ...]] = {}
        for key, text in hours.items():
            day = key.strip().lower()[:3]
            if day not in WEEKDAYS:
                raise ScheduleError(f"unknown weekday {key!r} (use {', '.join(WEEKDAYS)})")
            weekly[WEEKDAYS.index(day)] = parse_ranges(text)
        calendar = None
        if country:
            try:
                calendar = holidays.country_holidays(country, subdiv=subdivision)
            except NotImplementedError:
                raise ScheduleError(
                    f"no holiday calendar for country {country!r}"
                    + (f" / subdivision {subdivision!r}" if subdivision else ""),
                    field="holidays_country",
                ) from None
        dates = set()
        for text in closed_dates:
            try:
                dates.add(dt.date.fromisoformat(text))
            except ValueError:
                raise ScheduleError(
                    f"bad closed date {text!r} (use YYYY-MM-DD)", field="closed_dates"
                ) from None
        return cls(timezone=zone, weekly=weekly, holidays=calendar, closed_dates=frozenset(dates))

    def local(self, moment: dt.datetime | float) -> dt.datetime:
        """Return ``moment`` (aware datetime or epoch seconds) in the schedule's zone."""
        if isinstance(moment, dt.datetime):
            if moment.tzinfo is None:
                raise ScheduleError("naive datetime: give a time zone")
            return moment.astimezone(self.timezone)
        return dt.datetime.fromtimestamp(moment, tz=self.timezone)

    def closed_all_day(self, day: dt.date) -> str | None:
        """Return why ``day`` is closed all day (holiday name, "closed date"), or None."""
        if day in self.closed_dates:
            return "closed date"
        if self.holidays is not None:
            name = self.holidays.get(day)
            if name:
                return str(name)
        return None

    def is_open(self, moment: dt.datetime | float) -> bool:
        """Return whether the business is open at ``moment``."""
        local = self.local(moment)
        if self.closed_all_day(local.date()) is not None:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly.get(local.weekday(), ()))

    def next_change(self, moment: dt.datetime | float) -> dt.datetime | None:
        """Return the next moment the open/closed state flips, or None if it never does.

        Candidates are range boundaries and midnights in local wall time, converted back
        through the zone, so DST changes are handled by zoneinfo.
        """
        local = self.local(moment)
        state = self.is_open(local)
        day = local.date()
        for offset in range(_LOOKAHEAD_DAYS):
            current = day + dt.timedelta(days=offset)
            boundaries = {0}
            for start, end in self.weekly.get(current.weekday(), ()):
                boundaries.update((start, end))
            for minute in sorted(boundaries):
                naive = dt.datetime.combine(current, dt.time()) + dt.timedelta(minutes=minute)
                candidate = naive.replace(tzinfo=self.timezone)
                if candidate <= local:
                    continue
                if self.is_open(candidate) != state:
                    return candidate
        return None
