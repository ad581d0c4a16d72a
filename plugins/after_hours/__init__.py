"""The ``after_hours`` plugin: cover the hours when nobody is there (see plugin.py)."""

from __future__ import annotations

from .plugin import AfterHours, AfterHoursConfig
from .schedule import Schedule, ScheduleError

__all__ = ["AfterHours", "AfterHoursConfig", "Schedule", "ScheduleError"]
