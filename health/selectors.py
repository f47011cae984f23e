"""Scoped reads of the health record. Every query runs under the owner's RLS context (the request's,
or ``tenant()`` in tasks) and also filters by ``user`` so a mistake in either still shows nothing."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import adherence, conf, schedule
from .models import (
    Allergy,
    Frequency,
    HealthMeasurement,
    HealthProfile,
    MedicalAppointment,
    MedicalCondition,
    Medication,
    MedicationLog,
    Severity,
)

CHART_POINTS = 365  # per measurement type on the chart; the table pages and the CSV have them all


def profile_get(user) -> HealthProfile | None:
    return HealthProfile.objects.filter(user=user).first()


_UNITS_SQL = "SELECT weight_unit, height_unit, temperature_unit, glucose_unit FROM health_profiles WHERE user_id = %s ORDER BY id LIMIT 1"


def units_for(user) -> dict:
    """``units_of(profile_get(user))`` without the profile's other columns (one written-out query)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_UNITS_SQL, [user.pk])
        row = cursor.fetchone()
    if row is None:
        return units_of(None)
    return {"weight": row[0], "height": row[1], "temperature": row[2], "glucose": row[3]}


def units_of(profile: HealthProfile | None) -> dict:
    if profile is None:
        return {"weight": "kg", "height": "cm", "temperature": "C", "glucose": "mg/dL"}
    return {"weight": profile.weight_unit, "height": profile.height_unit,
            "temperature": profile.temperature_unit, "glucose": profile.glucose_unit}


def zone_of(user) -> zoneinfo.ZoneInfo:
    """The owner's time zone (their account setting; the site's when unset or unknown). Read with a
    written-out query unless the settings row is already loaded on ``user``."""
    if "settings" in user._state.fields_cache or user.pk is None:
        settings_row = getattr(user, "settings", None)
        return schedule.zone(getattr(settings_row, "timezone", "") if settings_row is not None else "")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT timezone FROM user_settings WHERE user_id = %s", [user.pk])
        row = cursor.fetchone()
    return schedule.zone(row[0] if row else "")


def conditions_list(user) -> QuerySet[MedicalCondition]:
    return MedicalCondition.objects.filter(user=user).order_by("status", "name", "id")


def condition_get(user, pk) -> MedicalCondition:
    return get_object_or_404(MedicalCondition, pk=pk, user=user)


def allergies_list(user) -> QuerySet[Allergy]:
    return Allergy.objects.filter(user=user).order_by("allergen", "id")


def allergy_get(user, pk) -> Allergy:
    return get_object_or_404(Allergy, pk=pk, user=user)


def allergies_serious(user) -> list[Allergy]:
    """Active allergies rated severe or life-threatening, the worst first (the overview's banner)."""
    rows = list(Allergy.objects.filter(user=user, severity__in=[Severity.SEVERE, Severity.CRITICAL]).exclude(status="RESOLVED"))
    return sorted(rows, key=lambda a: (a.severity != Severity.CRITICAL, a.allergen.lower()))


def medications_list(user) -> QuerySet[Medication]:
    return Medication.objects.filter(user=user).order_by("-is_active", "name", "id")


def medication_get(user, pk) -> Medication:
    return get_object_or_404(Medication, pk=pk, user=user)


def logs_by_medication(user, start: datetime, end: datetime, medication_ids=None) -> dict:
    """medication id → {scheduled instant: log}, for doses scheduled in [start, end]: one query."""
    rows = MedicationLog.objects.filter(user=user, scheduled_time__gte=start, scheduled_time__lte=end)
    if medication_ids is not None:
        rows = rows.filter(medication_id__in=list(medication_ids))
    found: dict = defaultdict(dict)
    for log in rows:
        found[log.medication_id][log.scheduled_time] = log
    return found


def adherence_summary(user, days: int, now: datetime | None = None, *, medications=None) -> dict:
    """Adherence over the last ``days``; ``medications``: the owner's list when already read."""
    now = now or timezone.now()
    grace = timedelta(minutes=conf.dose_grace_minutes())
    meds = [m for m in (medications_list(user) if medications is None else medications) if schedule.is_scheduled(m)]
    logs = logs_by_medication(user, now - timedelta(days=days), now + grace, [m.id for m in meds])
    return adherence.summary(meds, logs, zone_of(user), days, now, grace)


def refill_warnings(user, *, medications=None) -> list[Medication]:
    """Active medications whose stock is at or below their warning level (default: a week of doses);
    ``medications``: the owner's list when already read."""
    if medications is None:
        medications = Medication.objects.filter(user=user, is_active=True, stock_count__isnull=False)
    out = []
    for med in medications:
        if med.is_active and med.stock_count is not None and med.stock_count <= refill_level(med):
            out.append(med)
    return out


def refill_level(med: Medication) -> int:
    if med.refill_threshold is not None:
        return med.refill_threshold
    per_day = len(schedule.day_times(med)) if schedule.is_scheduled(med) else 1
    if med.frequency == Frequency.WEEKDAYS:
        per_day = max(1, round(per_day * len(med.weekdays or []) / 7))
    return 7 * max(per_day, 1)


class Dose:
    """One dose of the overview: its medication, instant and what was recorded."""

    __slots__ = ("medication", "instant", "log", "due", "overdue")

    def __init__(self, medication, instant, log, due, overdue):
        self.medication, self.instant, self.log, self.due, self.overdue = medication, instant, log, due, overdue

    @property
    def kind(self) -> str:
        if self.log is None:
            return "missed" if self.overdue else "pending"
        return adherence.classify(self.log)


def doses_today(user, now: datetime | None = None, *, medications=None) -> list[Dose]:
    """Today's doses (local day) of active scheduled medications, with their records: two queries
    (one when ``medications``, the owner's list, was already read)."""
    now = now or timezone.now()
    tz = zone_of(user)
    grace = timedelta(minutes=conf.dose_grace_minutes())
    local = now.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(schedule.UTC)
    day_end = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(schedule.UTC) - timedelta(microseconds=1)
    if medications is None:
        medications = Medication.objects.filter(user=user, is_active=True).order_by("name", "id")
    meds = [m for m in medications if m.is_active and schedule.is_scheduled(m)]
    logs = logs_by_medication(user, day_start, day_end, [m.id for m in meds])
    out = []
    for med in meds:
        for instant in schedule.doses(med, tz, day_start, day_end):
            out.append(Dose(med, instant, logs.get(med.id, {}).get(instant), instant <= now, instant + grace < now))
    return sorted(out, key=lambda d: (d.instant, d.medication.name.lower()))


def recent_past_doses(user, med: Medication, days: int = 7, now: datetime | None = None) -> list[Dose]:
    """The medication's doses of the last ``days`` days that are past, newest first (for backfilling)."""
    now = now or timezone.now()
    tz = zone_of(user)
    grace = timedelta(minutes=conf.dose_grace_minutes())
    start = now - timedelta(days=days)
    logs = logs_by_medication(user, start, now + grace, [med.id]).get(med.id, {})
    instants = sorted(set(schedule.doses(med, tz, start, now)) | {t for t in logs if t <= now}, reverse=True)
    return [Dose(med, t, logs.get(t), True, t + grace < now) for t in instants]


def medication_history(user, med: Medication, limit: int = 50) -> QuerySet[MedicationLog]:
    return MedicationLog.objects.filter(user=user, medication=med).order_by("-scheduled_time")[:limit]


def appointments_upcoming(user, now: datetime | None = None) -> QuerySet[MedicalAppointment]:
    now = now or timezone.now()
    return MedicalAppointment.objects.filter(user=user, scheduled_date__gte=now).order_by("scheduled_date", "id")


def appointments_past(user, now: datetime | None = None) -> QuerySet[MedicalAppointment]:
    now = now or timezone.now()
    return MedicalAppointment.objects.filter(user=user, scheduled_date__lt=now).order_by("-scheduled_date", "id")


def appointment_get(user, pk) -> MedicalAppointment:
    return get_object_or_404(MedicalAppointment, pk=pk, user=user)


def measurements_list(user, kind: str | None = None) -> QuerySet[HealthMeasurement]:
    rows = HealthMeasurement.objects.filter(user=user)
    if kind:
        rows = rows.filter(type=kind)
    return rows.order_by("-measured_at", "id")


# One page of the table and how many rows it has (the page asked for, or the last one past the
# end, as Paginator.get_page answers), in one statement; ``measurements_list``'s order.
MEASUREMENT_PAGE_SQL = """
WITH matched AS (SELECT count(*) AS n FROM health_measurements m WHERE {where})
SELECT matched.n, page.* FROM matched LEFT JOIN LATERAL (
    SELECT m.id, m.type, m.value::text, m.measured_at FROM health_measurements m WHERE {where}
    ORDER BY m.measured_at DESC, m.id ASC
    LIMIT %(size)s OFFSET (SELECT (least(%(page)s, greatest(1, ceil(n::numeric / %(size)s)::int)) - 1) * %(size)s FROM matched)
) page ON true
"""


def measurements_page(user, kind: str | None, number: int, size: int, profile_units: dict | None, since: datetime | None,
                      *, cap: int = CHART_POINTS) -> tuple[int, int, list[tuple], dict[str, dict], dict]:
    """The measurements page's reads in one round trip: (how many rows match ``kind``, the page
    shown, its rows as (id, type, value, measured_at), ``measurement_series``, the units). With
    ``profile_units`` None, the owner's units are read in the same round trip (``units_for``)."""
    import json

    from django.db import connection

    where = "m.user_id = %(user)s" + (" AND m.type = %(kind)s" if kind else "")
    own = profile_units is None
    params = {**_series_params(user, profile_units or {}, since, cap), "kind": kind, "page": max(1, int(number)), "size": size}
    statements = [MEASUREMENT_PAGE_SQL.format(where=where), MEASUREMENT_SERIES_OWN_UNITS_SQL if own else MEASUREMENT_SERIES_SQL]
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(([_UNITS_NAMED_SQL] if own else []) + statements), params)
        if own:
            row = cursor.fetchone()
            profile_units = units_of(None) if row is None else {"weight": row[0], "height": row[1], "temperature": row[2], "glucose": row[3]}
            cursor.nextset()
        found = cursor.fetchall()
        cursor.nextset()
        series = {series_kind: json.loads(points) for series_kind, points in cursor.fetchall()}
    total = found[0][0]
    rows = [(pk, row_kind, json.loads(value), measured_at) for _n, pk, row_kind, value, measured_at in found if pk is not None]
    return total, min(params["page"], max(1, -(-total // size))), rows, series, profile_units


def measurement_get(user, pk) -> HealthMeasurement:
    return get_object_or_404(HealthMeasurement, pk=pk, user=user)


# The chart series, computed in PostgreSQL: each point's figure in the owner's units (the same
# rounding as ``measurements.show``), odd stored shapes left out, and past CHART_POINTS points of a
# kind in the period, means over equal slices of the period (so a year of eight readings a day is
# still one line of at most CHART_POINTS points). One row per kind: its points as JSON text.
_NUMBER = "CASE WHEN jsonb_typeof(value->'{key}') = 'number' THEN (value->'{key}')::numeric END"
MEASUREMENT_SERIES_SQL = f"""
WITH raw AS MATERIALIZED (  -- each figure worked out once, then filtered
    SELECT type, measured_at,
        CASE type
            WHEN 'WEIGHT' THEN round(CASE WHEN %(lb)s THEN {_NUMBER.format(key="kg")} / 0.45359237 ELSE {_NUMBER.format(key="kg")} END, 1)
            WHEN 'BLOOD_PRESSURE' THEN {_NUMBER.format(key="systolic")}
            WHEN 'GLUCOSE' THEN CASE WHEN %(mmol)s THEN round({_NUMBER.format(key="mg_dl")} / 18.016, 1) ELSE round({_NUMBER.format(key="mg_dl")}, 0) END
            WHEN 'HEART_RATE' THEN {_NUMBER.format(key="bpm")}
            WHEN 'TEMPERATURE' THEN round(CASE WHEN %(fahrenheit)s THEN {_NUMBER.format(key="celsius")} * 9 / 5 + 32 ELSE {_NUMBER.format(key="celsius")} END, 1)
            WHEN 'OXYGEN' THEN {_NUMBER.format(key="percent")}
            WHEN 'OTHER' THEN {_NUMBER.format(key="amount")}
        END AS y,
        CASE WHEN type = 'BLOOD_PRESSURE' THEN {_NUMBER.format(key="diastolic")} END AS y2
    FROM health_measurements
    WHERE user_id = %(user)s AND (%(since)s::timestamptz IS NULL OR measured_at >= %(since)s::timestamptz)
), points AS MATERIALIZED (
    SELECT * FROM raw WHERE y IS NOT NULL AND (type <> 'BLOOD_PRESSURE' OR y2 IS NOT NULL)
), sizes AS (
    SELECT type, count(*) AS n, min(measured_at) AS first,
           greatest(extract(epoch FROM max(measured_at) - min(measured_at)), 1) / %(cap)s AS slice_seconds
    FROM points GROUP BY type
), shown AS (
    SELECT p.type, p.measured_at AS t, p.y, p.y2 FROM points p JOIN sizes s USING (type) WHERE s.n <= %(cap)s
    UNION ALL
    SELECT p.type, min(p.measured_at), round(avg(p.y), 1), round(avg(p.y2), 1)
    FROM points p JOIN sizes s USING (type) WHERE s.n > %(cap)s
    GROUP BY p.type, floor(extract(epoch FROM p.measured_at - s.first) / s.slice_seconds)
)
SELECT type, json_build_object(
    't', json_agg(floor(extract(epoch FROM t) * 1000)::bigint ORDER BY t),
    'y', json_agg(y ORDER BY t), 'y2', json_agg(y2 ORDER BY t))::text
FROM shown GROUP BY type
"""


_UNITS_NAMED_SQL = _UNITS_SQL.replace("%s", "%(user)s")
# The series in the owner's units read in the same statement (defaults without a profile, as ``units_of(None)``).
_OWN_UNIT = "coalesce((SELECT hp.{column} = '{unit}' FROM health_profiles hp WHERE hp.user_id = %(user)s ORDER BY hp.id LIMIT 1), false)"
MEASUREMENT_SERIES_OWN_UNITS_SQL = (
    MEASUREMENT_SERIES_SQL.replace("%(lb)s", _OWN_UNIT.format(column="weight_unit", unit="lb"))
    .replace("%(mmol)s", _OWN_UNIT.format(column="glucose_unit", unit="mmol/L"))
    .replace("%(fahrenheit)s", _OWN_UNIT.format(column="temperature_unit", unit="F"))
)


def _series_params(user, profile_units: dict, since: datetime | None, cap: int) -> dict:
    return {"user": user.pk, "since": since, "cap": cap, "lb": profile_units.get("weight") == "lb",
            "mmol": profile_units.get("glucose") == "mmol/L", "fahrenheit": profile_units.get("temperature") == "F"}


def measurement_series(user, profile_units: dict, since: datetime | None = None, *, cap: int = CHART_POINTS) -> dict[str, dict]:
    """kind → its chart points, oldest first, as three lists of the same length: ``t`` (instants,
    milliseconds since the epoch), ``y`` (the figure), ``y2`` (the diastolic, else None); measured
    since ``since`` (everything when None), at most ``cap`` + 1 points per kind: one query."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(MEASUREMENT_SERIES_SQL, _series_params(user, profile_units, since, cap))
        return {kind: json.loads(points) for kind, points in cursor.fetchall()}


def record(user) -> dict:
    """Everything of the owner's health record, for the FHIR export and the printable summary."""
    return {
        "profile": profile_get(user),
        "conditions": list(conditions_list(user)),
        "allergies": list(allergies_list(user)),
        "medications": list(medications_list(user)),
        "appointments": list(MedicalAppointment.objects.filter(user=user).order_by("scheduled_date", "id")),
        "measurements": list(HealthMeasurement.objects.filter(user=user).order_by("measured_at", "id")),
    }
