"""Writes to the health record. Each runs in one transaction (all or nothing) as the owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf, schedule, selectors
from .errors import DoseError
from .missed import write_missed
from .models import (
    Allergy,
    HealthMeasurement,
    HealthProfile,
    MedicalAppointment,
    MedicalCondition,
    Medication,
    MedicationLog,
    MedicationStatus,
)

EARLY_CONFIRMATION = timedelta(hours=2)  # a dose may be confirmed this long before its time
SCHEDULE_FIELDS = ("frequency", "reminder_times", "interval_hours", "weekdays", "start_date", "end_date", "is_active")


def profile_ensure(user) -> HealthProfile:
    profile = HealthProfile.objects.filter(user=user).first()
    if profile is None:
        with transaction.atomic():
            HealthProfile.objects.bulk_create([HealthProfile(user=user)], ignore_conflicts=True)
        profile = HealthProfile.objects.get(user=user)
    return profile


@transaction.atomic
def profile_update(user, **values) -> HealthProfile:
    profile = profile_ensure(user)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.save()
    return profile


@transaction.atomic
def profile_entry_add(user, field: str, entry: dict) -> HealthProfile:
    """Append an emergency contact or insurance entry (``field``) to its encrypted list."""
    profile = HealthProfile.objects.select_for_update().filter(pk=profile_ensure(user).pk).get()
    entries = list(getattr(profile, field) or [])
    entries.append({k: v for k, v in entry.items() if v not in (None, "")})
    setattr(profile, field, entries)
    profile.save(update_fields=[field])
    return profile


@transaction.atomic
def profile_entry_remove(user, field: str, index: int) -> bool:
    profile = HealthProfile.objects.select_for_update().filter(user=user).first()
    entries = list(getattr(profile, field) or []) if profile else []
    if not 0 <= index < len(entries):
        return False
    del entries[index]
    setattr(profile, field, entries)
    profile.save(update_fields=[field])
    return True


def _save_child(user, instance, values: dict):
    profile = profile_ensure(user)
    instance.health_profile = profile
    instance.user = user
    for name, value in values.items():
        setattr(instance, name, value)
    instance.save()
    return instance


@transaction.atomic
def condition_save(user, instance: MedicalCondition | None, **values) -> MedicalCondition:
    return _save_child(user, instance or MedicalCondition(), values)


@transaction.atomic
def allergy_save(user, instance: Allergy | None, **values) -> Allergy:
    return _save_child(user, instance or Allergy(), values)


@transaction.atomic
def appointment_save(user, instance: MedicalAppointment | None, **values) -> MedicalAppointment:
    if instance is not None and "scheduled_date" in values and values["scheduled_date"] != instance.scheduled_date:
        instance.reminded_at = None  # moved: remind again before the new date
    return _save_child(user, instance or MedicalAppointment(), values)


@transaction.atomic
def measurement_add(user, *, kind: str, value: dict, measured_at: datetime) -> HealthMeasurement:
    return _save_child(user, HealthMeasurement(), {"type": kind, "value": value, "measured_at": measured_at})


@transaction.atomic
def row_delete(instance) -> None:
    instance.delete()


@transaction.atomic
def medication_save(user, instance: Medication | None, **values) -> Medication:
    """Create or edit a medication. Changing the schedule starts a new one from now: the due doses
    of the old schedule nobody recorded are written as missed first, so the past stays as it was."""
    now = timezone.now()
    tz = selectors.zone_of(user)
    if instance is not None and instance.pk:
        instance = Medication.objects.select_for_update().get(pk=instance.pk, user=user)
        changed = any(values.get(name, getattr(instance, name)) != getattr(instance, name) for name in SCHEDULE_FIELDS)
        if changed:
            write_missed(instance, tz, now, since=instance.tracked_since)
            instance.tracked_since = now
            instance.reminded_until = now
        if values.get("is_active") is False and instance.is_active:
            today = now.astimezone(tz).date()
            if values.get("end_date") is None or values["end_date"] > today:
                values["end_date"] = max(today, values.get("start_date") or today)
    else:
        instance = Medication(tracked_since=now, reminded_until=now)
    return _save_child(user, instance, values)


def _is_dose(med: Medication, tz, instant: datetime) -> bool:
    return instant in schedule.doses(med, tz, instant - timedelta(seconds=1), instant + timedelta(seconds=1))


@transaction.atomic
def dose_record(user, med: Medication, *, scheduled: datetime, action: str, taken_at: datetime | None = None,
                now: datetime | None = None) -> MedicationLog:
    """Confirm (``take``), ``skip`` or backfill (``take`` with ``taken_at``) one scheduled dose.

    Taken within the grace window after its time is ``tomado``, later ``retrasado``. A dose the
    person already recorded is refused (a second click does nothing twice); one the job wrote as
    missed is overwritten by what the person says happened.
    """
    now = now or timezone.now()
    tz = selectors.zone_of(user)
    grace = timedelta(minutes=conf.dose_grace_minutes())
    med = Medication.objects.select_for_update().get(pk=med.pk, user=user)
    if not schedule.is_scheduled(med):
        raise DoseError(_("This medication is taken as needed; record a dose with “Took a dose now”."))
    existing = MedicationLog.objects.select_for_update().filter(medication=med, scheduled_time=scheduled).first()
    if existing is None and not _is_dose(med, tz, scheduled):
        raise DoseError(_("There is no dose of this medication at that time."))
    if existing is not None and existing.recorded_by == "user":
        raise DoseError(_("This dose is already recorded."))
    if action == "skip":
        status, when = MedicationStatus.SKIPPED, None
    elif action == "take":
        when = taken_at or now
        if when > now + timedelta(minutes=1):
            raise DoseError(_("A dose cannot be recorded as taken in the future."))
        if scheduled - when > EARLY_CONFIRMATION:
            raise DoseError(_("This dose is not due yet; confirm it from two hours before its time."))
        status = MedicationStatus.TAKEN if when <= scheduled + grace else MedicationStatus.LATE
    else:
        raise DoseError(_("Unknown action."))
    if action == "skip" and scheduled - now > EARLY_CONFIRMATION:
        raise DoseError(_("This dose is not due yet; confirm it from two hours before its time."))
    if existing is not None:
        existing.status, existing.taken_time, existing.recorded_by = status, when, "user"
        existing.save(update_fields=["status", "taken_time", "recorded_by"])
        log = existing
    else:
        try:
            with transaction.atomic():
                log = MedicationLog.objects.create(medication=med, user=user, scheduled_time=scheduled, status=status, taken_time=when)
        except IntegrityError:
            raise DoseError(_("This dose is already recorded.")) from None
    if status != MedicationStatus.SKIPPED and med.stock_count:
        Medication.objects.filter(pk=med.pk, stock_count__gt=0).update(stock_count=F("stock_count") - 1)
    return log


@transaction.atomic
def dose_undo(user, med: Medication, *, scheduled: datetime) -> bool:
    """Forget what the person recorded for a dose (a wrong click); the stock gets its dose back."""
    log = MedicationLog.objects.select_for_update().filter(medication=med, user=user, scheduled_time=scheduled, recorded_by="user").first()
    if log is None:
        return False
    if log.status != MedicationStatus.SKIPPED and med.stock_count is not None:
        Medication.objects.filter(pk=med.pk).update(stock_count=F("stock_count") + 1)
    log.delete()
    return True


@transaction.atomic
def dose_as_needed(user, med: Medication, *, taken_at: datetime | None = None, now: datetime | None = None) -> MedicationLog:
    """Record an as-needed dose (its own time is its "scheduled" time; not part of adherence)."""
    now = now or timezone.now()
    when = taken_at or now
    if when > now + timedelta(minutes=1):
        raise DoseError(_("A dose cannot be recorded as taken in the future."))
    when = when.replace(microsecond=0)
    try:
        with transaction.atomic():
            log = MedicationLog.objects.create(medication=med, user=user, scheduled_time=when, taken_time=when, status=MedicationStatus.TAKEN)
    except IntegrityError:
        raise DoseError(_("This dose is already recorded.")) from None
    if med.stock_count:
        Medication.objects.filter(pk=med.pk, stock_count__gt=0).update(stock_count=F("stock_count") - 1)
    return log
