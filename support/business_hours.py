"""Time counted in business hours: working days and hours in one time zone, holidays skipped.

``add_business_hours(start, 4)`` is when 4 working hours after ``start`` have passed: Mon-Fri
08-18, Fri 17:00 + 4 h is Mon 11:00; Sat 10:00 + 4 h is Mon 12:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from . import conf

_MAX_DAYS = 3660  # a calendar with no working day at all must not loop forever


def _is_working_day(day: dt.date, days: frozenset[int], holidays: frozenset[str]) -> bool:
    return day.isoweekday() in days and day.isoformat() not in holidays


def add_business_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """``start`` (aware) plus ``hours`` of working time, in UTC-aware form of the zone's wall clock."""
    zone = ZoneInfo(conf.timezone_name())
    days, holidays = conf.working_days(), conf.holidays()
    open_hour, close_hour = conf.working_hours()
    local = start.astimezone(zone)
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    for _ in range(_MAX_DAYS):
        if _is_working_day(day, days, holidays):
            opens = dt.datetime.combine(day, dt.time(open_hour), tzinfo=zone)
            closes = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=close_hour)
            begin = max(opens, local)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    raise ValueError("no working hours in the support calendar (SUPPORT_WORKING_DAYS, SUPPORT_HOLIDAYS)")


def business_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working hours from ``start`` to ``end`` (0 when ``end`` is not later)."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(conf.timezone_name())
    days, holidays = conf.working_days(), conf.holidays()
    open_hour, close_hour = conf.working_hours()
    local, finish = start.astimezone(zone), end.astimezone(zone)
    total = dt.timedelta()
    day = local.date()
    while day <= finish.date():
        if _is_working_day(day, days, holidays):
            opens = dt.datetime.combine(day, dt.time(open_hour), tzinfo=zone)
            closes = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=close_hour)
            begin, stop = max(opens, local), min(closes, finish)
            if stop > begin:
                total += stop - begin
        day += dt.timedelta(days=1)
    return total.total_seconds() / 3600
