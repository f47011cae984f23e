"""Writing unrecorded doses as missed: shared by the reminder job and a schedule change."""

from __future__ import annotations

from datetime import datetime, timedelta

from . import conf, schedule
from .models import Medication, MedicationLog, MedicationStatus

MISSED_LOOKBACK = timedelta(days=2)  # older gaps are still counted as missed by the adherence figures


def write_missed(med: Medication, tz, now: datetime, *, since: datetime | None = None) -> int:
    """Record as missed (``omitido`` by the system) the doses past their grace window that nobody
    recorded: of the last two days (the job), or since ``since`` (a schedule change, which must keep
    the whole past). The unique (medication, instant) key makes it idempotent."""
    grace = timedelta(minutes=conf.dose_grace_minutes())
    instants = schedule.doses(med, tz, since or now - MISSED_LOOKBACK, now - grace)
    if not instants:
        return 0
    known = set(MedicationLog.objects.filter(medication=med, scheduled_time__in=instants).values_list("scheduled_time", flat=True))
    rows = [MedicationLog(medication=med, user_id=med.user_id, scheduled_time=t, status=MedicationStatus.SKIPPED, recorded_by="system")
            for t in instants if t not in known]
    if rows:
        MedicationLog.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
