"""Adherence: taken (on time + late) ÷ scheduled doses already due in the window.

A dose is due once its grace window has passed, or earlier when it was already recorded (taken
before its time, or skipped). Doses still to come and as-needed medications are left out; a due
dose nobody recorded counts as missed even if the reminder job has not written it yet, so the
figure never depends on the job having run. Skipped and missed count against; late counts as
taken and is also shown on its own. A dose backfilled later simply changes its record, and the
next computation follows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from . import schedule
from .models import MedicationStatus

WINDOWS = (7, 30, 90)


@dataclass
class Tally:
    scheduled: int = 0
    taken: int = 0
    late: int = 0
    missed: int = 0
    skipped: int = 0

    @property
    def percent(self) -> float | None:
        if not self.scheduled:
            return None
        return round(self.taken * 100 / self.scheduled, 1)

    def add(self, other: Tally) -> None:
        for name in ("scheduled", "taken", "late", "missed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {**asdict(self), "percent": self.percent}


def classify(log) -> str:
    """"taken", "late", "skipped" or "missed" for a medication log."""
    if log is None:
        return "missed"
    if log.status == MedicationStatus.TAKEN:
        return "taken"
    if log.status == MedicationStatus.LATE:
        return "late"
    return "missed" if log.recorded_by == "system" else "skipped"


def due_doses(med, logs: dict, tz, start: datetime, now: datetime, grace: timedelta) -> list[datetime]:
    """The medication's due dose instants in [start, now]: the schedule's past-grace ones plus any
    recorded ones in the window (doses from before a schedule change live only in the logs)."""
    generated = schedule.doses(med, tz, start, now - grace)
    recorded = [t for t in logs if start <= t <= now + grace]
    return sorted(set(generated) | set(recorded))


def tally(med, logs: dict, tz, start: datetime, now: datetime, grace: timedelta) -> Tally:
    result = Tally()
    for instant in due_doses(med, logs, tz, start, now, grace):
        result.scheduled += 1
        kind = classify(logs.get(instant))
        if kind in ("taken", "late"):
            result.taken += 1
            if kind == "late":
                result.late += 1
        elif kind == "skipped":
            result.skipped += 1
        else:
            result.missed += 1
    return result


def summary(meds, logs_by_med: dict, tz, days: int, now: datetime, grace: timedelta) -> dict:
    """``{"overall": {...}, "medications": [{"id", "name", ...}]}`` over the last ``days`` days.

    ``meds``: the medications to count (as-needed ones are skipped here); ``logs_by_med``:
    medication id → {scheduled instant: log}.
    """
    start = now - timedelta(days=days)
    overall = Tally()
    rows = []
    for med in meds:
        if not schedule.is_scheduled(med):
            continue
        one = tally(med, logs_by_med.get(med.id, {}), tz, start, now, grace)
        overall.add(one)
        rows.append({"id": str(med.id), "name": med.name, **one.as_dict()})
    return {"overall": overall.as_dict(), "medications": rows}


def daily_series(med, logs: dict, tz, days: int, now: datetime, grace: timedelta) -> list[dict]:
    """Per local day of the window: the day's percent (None when nothing was due), for the chart."""
    start = now - timedelta(days=days)
    per_day: dict = {}
    for instant in due_doses(med, logs, tz, start, now, grace):
        day = instant.astimezone(tz).date()
        bucket = per_day.setdefault(day, Tally())
        bucket.scheduled += 1
        if classify(logs.get(instant)) in ("taken", "late"):
            bucket.taken += 1
    first = start.astimezone(tz).date()
    last = now.astimezone(tz).date()
    out = []
    day = first
    while day <= last:
        bucket = per_day.get(day)
        out.append({"date": day.isoformat(), "percent": bucket.percent if bucket else None})
        day += timedelta(days=1)
    return out
