"""When a medication's doses fall: each dose's UTC instant from its local wall time, per date.

A dose "at 08:00" is 08:00 in the owner's time zone on every date, so across a daylight-saving
change its UTC instant moves by the change and no dose is added or lost. A wall time that does not
exist on the spring-forward date (02:30 in Madrid on the last Sunday of March) resolves with the
offset in force before the change (03:30 local), and one that happens twice in autumn takes its
first occurrence (``fold=0``): still exactly one dose per date and time.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings

from .models import Frequency

UTC = dt_timezone.utc


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def parse_time(text: str) -> time:
    """"HH:MM" (24-hour) → time; ValueError otherwise (25:00, 7:5x, …)."""
    text = (text or "").strip()
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        raise ValueError(text)
    return time(int(hours), int(minutes))  # raises ValueError past 23:59


def day_times(med) -> list[time]:
    """The wall times of one dosing day."""
    times = sorted({parse_time(t) for t in (med.reminder_times or []) if _valid(t)})
    if med.frequency == Frequency.INTERVAL and times and med.interval_hours:
        first = times[0]
        minutes = first.hour * 60 + first.minute
        step = int(med.interval_hours) * 60
        times = [time(m // 60, m % 60) for m in range(minutes, 24 * 60, step)]
    return times


def _valid(text) -> bool:
    try:
        parse_time(str(text))
    except ValueError:
        return False
    return True


def is_scheduled(med) -> bool:
    return med.frequency in (Frequency.DAILY, Frequency.INTERVAL, Frequency.WEEKDAYS) and bool(med.reminder_times)


def local_instant(day: date, at: time, tz: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant of wall time ``at`` on ``day`` in ``tz`` (gaps and folds as the module says)."""
    local = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return local.astimezone(UTC)


def doses(med, tz: zoneinfo.ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The dose instants of ``med`` in [start, end] (UTC-aware), from ``tracked_since`` on.

    As-needed medications and medications without times have no schedule. ``start_date`` and
    ``end_date`` are local dates, both included.
    """
    if not is_scheduled(med):
        return []
    times = day_times(med)
    if not times:
        return []
    if med.tracked_since and med.tracked_since > start:
        start = med.tracked_since
    if start > end:
        return []
    first_day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date() + timedelta(days=1)
    if med.start_date and med.start_date > first_day:
        first_day = med.start_date
    if med.end_date and med.end_date < last_day:
        last_day = med.end_date
    weekdays = {int(d) for d in (med.weekdays or []) if str(d).isdigit()}
    found: list[datetime] = []
    day = first_day
    while day <= last_day:
        if med.frequency != Frequency.WEEKDAYS or day.weekday() in weekdays:
            for at in times:
                instant = local_instant(day, at, tz)
                if start <= instant <= end:
                    found.append(instant)
        day += timedelta(days=1)
    return sorted(set(found))
