"""Medication and appointment reminders, and writing doses as missed (run every minute by beat).

Health rows are owner-only (not even the audited bypass reads them), so the job walks the users
and opens each one's own context. For each active medication with reminders it sends the doses
whose instant fell in (``reminded_until``, now] — at most ``HEALTH_REMINDER_MAX_DELAY_MINUTES``
late — and moves the marker to now under a row lock: two overlapping runs, a retry or a
daylight-saving change cannot send a dose twice, since instants are absolute. Doses past the grace
window that nobody recorded are written ``omitido`` by the system (unique per medication and
instant). The marker is committed before anything is sent: at most once, never twice.

Messages go through one small channel interface (``ReminderChannel``); email is the one we have.
They never name the medication, the dose or the appointment: "a medication reminder" and a link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.tenancy import set_context

from . import conf, schedule, selectors
from .missed import write_missed
from .models import Frequency, MedicalAppointment, Medication

logger = logging.getLogger(__name__)

MEDICATION = "medication"
APPOINTMENT = "appointment"


@dataclass(frozen=True)
class Reminder:
    user_id: object
    email: str
    name: str
    language: str
    kind: str  # MEDICATION or APPOINTMENT
    count: int


class ReminderChannel(Protocol):
    def send(self, reminder: Reminder) -> None: ...


class EmailChannel:
    """Plain-text email in the person's language; no medical detail, only a link to the app."""

    def send(self, reminder: Reminder) -> None:
        with translation.override(reminder.language or settings.LANGUAGE_CODE):
            subject, body = reminder_text(reminder)
        send_mail(subject=subject, message=body, from_email=conf.reminder_from_email(), recipient_list=[reminder.email])


def reminder_text(reminder: Reminder) -> tuple[str, str]:
    base = settings.SITE_URL.rstrip("/")
    if reminder.kind == APPOINTMENT:
        subject = _("An appointment reminder")
        line = ngettext(
            "You have a medical appointment in the next %(hours)s hours.",
            "You have %(count)s medical appointments in the next %(hours)s hours.",
            reminder.count,
        ) % {"count": reminder.count, "hours": conf.appointment_reminder_hours()}
        url = base + reverse("health:appointments")
    else:
        subject = _("A medication reminder")
        line = ngettext(
            "It is time for a dose of your medication.",
            "It is time for %(count)s doses of your medication.",
            reminder.count,
        ) % {"count": reminder.count}
        url = base + reverse("health:overview")
    lines = [
        _("Hello %(name)s,") % {"name": reminder.name} if reminder.name else _("Hello,"),
        "",
        line,
        _("Open the app to see it and confirm: %(url)s") % {"url": url},
    ]
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "\n".join(lines) + "\n"


def channel() -> ReminderChannel:
    path = getattr(settings, "HEALTH_REMINDER_CHANNEL", "")
    return import_string(path)() if path else EmailChannel()


# Whether a user has anything for the job, in one round trip (most users have no health rows).
_ANY_WORK_SQL = """
SELECT EXISTS (SELECT 1 FROM medications WHERE user_id = %s AND is_active AND frequency <> 'as_needed'
               AND reminder_times <> '[]'::jsonb)
    OR EXISTS (SELECT 1 FROM medical_appointments WHERE user_id = %s AND status = 'SCHEDULED' AND reminded_at IS NULL
               AND scheduled_date > %s AND scheduled_date <= %s)
"""
MISSED_FRESH = timedelta(minutes=30)  # doses whose grace window ended this recently are written each tick
BATCH = 200  # users per transaction (each in its own savepoint and RLS context)


def _has_work(user, now: datetime) -> bool:
    """Under the user's context already: anything for the job? (one query)"""
    horizon = now + timedelta(hours=conf.appointment_reminder_hours())
    with connection.cursor() as cursor:
        cursor.execute(_ANY_WORK_SQL, [user.pk, user.pk, now, horizon])
        return bool(cursor.fetchone()[0])


def _user_reminders(user, now: datetime) -> tuple[list[Reminder], int]:
    """One user's due reminders (markers moved) and the number of doses written missed."""
    max_delay = timedelta(minutes=conf.reminder_max_delay_minutes())
    horizon = now + timedelta(hours=conf.appointment_reminder_hours())
    meds = list(Medication.objects.select_for_update(skip_locked=True).filter(user=user, is_active=True)
                .exclude(frequency=Frequency.AS_NEEDED).exclude(reminder_times=[]))
    appointments = list(MedicalAppointment.objects.select_for_update(skip_locked=True).filter(
        user=user, status="SCHEDULED", reminded_at__isnull=True, scheduled_date__gt=now, scheduled_date__lte=horizon))
    if not meds and not appointments:
        return [], 0
    tz = selectors.zone_of(user)
    doses = missed = 0
    grace = timedelta(minutes=conf.dose_grace_minutes())
    catch_up = now.minute == 0  # hourly, the whole look-back (a worker that was down); else only fresh ones
    for med in meds:
        if catch_up or schedule.doses(med, tz, now - grace - MISSED_FRESH, now - grace):
            missed += write_missed(med, tz, now)
        if not med.reminder_enabled:
            continue
        since = max(med.reminded_until or now - max_delay, now - max_delay)
        due = [t for t in schedule.doses(med, tz, since, now) if t > since]
        if due:
            doses += len(due)
            Medication.objects.filter(pk=med.pk).update(reminded_until=now)
    if appointments:
        MedicalAppointment.objects.filter(pk__in=[a.pk for a in appointments]).update(reminded_at=now)
    language = getattr(getattr(user, "settings", None), "language", "") or ""
    out = []
    if doses:
        out.append(Reminder(user.pk, user.email, user.name or "", language, MEDICATION, doses))
    if appointments:
        out.append(Reminder(user.pk, user.email, user.name or "", language, APPOINTMENT, len(appointments)))
    return out, missed


def reminders_run(now: datetime | None = None) -> dict:
    """Walk every active user once; returns counts (users, reminders sent, doses written missed)."""
    now = now or timezone.now()
    users = get_user_model().objects.filter(deleted_at__isnull=True).only("id", "email", "name").order_by("id")
    sent = missed = failed = seen = 0
    send = channel()
    batch: list = []

    def flush():
        nonlocal sent, missed, failed
        outgoing = []
        # One commit per batch. Each user's context is set in turn (transaction-local, gone at the
        # commit); only a user with work gets a savepoint, so one bad row rolls back only theirs.
        with transaction.atomic():
            for user in batch:
                set_context(user.pk)
                if not _has_work(user, now):
                    continue
                try:
                    with transaction.atomic():
                        reminders, written = _user_reminders(user, now)
                except Exception:  # one user's bad row must not stop everyone's reminders
                    logger.exception("health reminders: user %s failed", user.pk)
                    failed += 1
                    continue
                missed += written
                outgoing += reminders
            set_context(None)
        batch.clear()
        for reminder in outgoing:  # after the commit: a marker is never rolled back once its email is out
            try:
                send.send(reminder)
                sent += 1
            except Exception:
                logger.exception("health reminders: sending to user %s failed", reminder.user_id)
                failed += 1

    for user in users.iterator(chunk_size=BATCH):
        seen += 1
        batch.append(user)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return {"users": seen, "sent": sent, "missed": missed, "failed": failed}
