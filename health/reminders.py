"""Medication and appointment reminders, and writing doses as missed (run every minute by beat).

Health rows are owner-only (not even the audited bypass reads them), so the job walks the users
and opens each one's own context. For each active medication with reminders it sends the doses
whose instant fell in (``reminded_until``, now] — at most ``HEALTH_REMINDER_MAX_DELAY_MINUTES``
late — and moves the marker to now under a row lock: two overlapping runs, a retry or a
daylight-saving change cannot remind of a dose twice, since instants are absolute. Doses past the
grace window that nobody recorded are written ``omitido`` by the system (unique per medication and
instant).

Sending goes through a transactional outbox (``health_reminder_outbox``): the transaction that moves
a marker also writes the email to send, one row per email, its key a uuid5 of what it is about.
After the batch's commit each row is sent in its own short transaction that takes it with ``FOR
UPDATE SKIP LOCKED``, sends, and deletes it; a failed send leaves the row for the next tick. A run
that finds rows (a worker killed mid-send, or a send that failed) sends them first for that user;
rows more than the maximum delay old are dropped unsent. A kill can therefore repeat at most the one
email in flight, and with the same ``Message-ID`` (built from the key), never lose one.

Messages go through one small channel interface (``ReminderChannel``); email is the one we have.
They never name the medication, the dose or the appointment: "a medication reminder" and a link.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.tenancy import set_context

from . import conf, schedule, selectors
from .missed import write_missed
from .models import Frequency, MedicalAppointment, Medication, ReminderOutbox

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
    key: uuid.UUID | None = None  # the idempotency key (the outbox row's id)


class ReminderChannel(Protocol):
    def send(self, reminder: Reminder) -> None: ...


class EmailChannel:
    """Plain-text email in the person's language; no medical detail, only a link to the app."""

    def send(self, reminder: Reminder) -> None:
        with translation.override(reminder.language or settings.LANGUAGE_CODE):
            subject, body = reminder_text(reminder)
        headers = {"Message-ID": message_id(reminder.key)} if reminder.key else {}
        EmailMessage(subject, body, conf.reminder_from_email(), [reminder.email], headers=headers).send()


# The namespace of the reminders' idempotency keys (uuid5): fixed, so a key never changes.
KEY_NAMESPACE = uuid.UUID("6f1d4c52-8e0b-5a57-9a43-2b1c0e7d9f10")


def reminder_key(user_id, kind: str, items) -> uuid.UUID:
    """The same key for the same reminder, whichever run computes it: the kind, the person and what
    it is about (medication id and dose instant, or appointment id), in a fixed order."""
    parts = sorted(f"{a}@{b.isoformat()}" if isinstance(b, datetime) else f"{a}" for a, b in items)
    return uuid.uuid5(KEY_NAMESPACE, f"{kind}:{user_id}:" + ",".join(parts))


def message_id(key: uuid.UUID) -> str:
    """A deterministic Message-ID: a message sent again is the same message to the mail system."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<health-reminder.{key}@{host}>"


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
    OR EXISTS (SELECT 1 FROM health_reminder_outbox WHERE user_id = %s)
"""
# Take one outbox row (unless another run holds it) and delete it; the send happens before the
# commit, so a failed send (or a killed worker) rolls the deletion back and the row stays.
_TAKE_SQL = """
DELETE FROM health_reminder_outbox WHERE id = (SELECT id FROM health_reminder_outbox WHERE id = %s FOR UPDATE SKIP LOCKED)
RETURNING kind, count, due_at
"""
MISSED_FRESH = timedelta(minutes=30)  # doses whose grace window ended this recently are written each tick
BATCH = 200  # users per transaction (each in its own savepoint and RLS context)


def _has_work(user, now: datetime) -> bool:
    """Under the user's context already: anything for the job? (one query)"""
    horizon = now + timedelta(hours=conf.appointment_reminder_hours())
    with connection.cursor() as cursor:
        cursor.execute(_ANY_WORK_SQL, [user.pk, user.pk, now, horizon, user.pk])
        return bool(cursor.fetchone()[0])


def _user_reminders(user, now: datetime) -> tuple[int, int]:
    """Under the user's context: move the markers of their due reminders and write the emails to
    send into the outbox, in the caller's transaction; (outbox rows written, doses written missed)."""
    max_delay = timedelta(minutes=conf.reminder_max_delay_minutes())
    horizon = now + timedelta(hours=conf.appointment_reminder_hours())
    meds = list(Medication.objects.select_for_update(skip_locked=True).filter(user=user, is_active=True)
                .exclude(frequency=Frequency.AS_NEEDED).exclude(reminder_times=[]))
    appointments = list(MedicalAppointment.objects.select_for_update(skip_locked=True).filter(
        user=user, status="SCHEDULED", reminded_at__isnull=True, scheduled_date__gt=now, scheduled_date__lte=horizon))
    if not meds and not appointments:
        return 0, 0
    tz = selectors.zone_of(user)
    missed = 0
    doses: list[tuple[object, datetime]] = []  # (medication id, dose instant) of every dose to remind of
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
            doses += [(med.pk, t) for t in due]
            Medication.objects.filter(pk=med.pk).update(reminded_until=now)
    if appointments:
        MedicalAppointment.objects.filter(pk__in=[a.pk for a in appointments]).update(reminded_at=now)
    rows = []
    if doses:  # one email for all the doses of this tick; too late once its newest dose is
        rows.append(ReminderOutbox(id=reminder_key(user.pk, MEDICATION, doses), user_id=user.pk, kind=MEDICATION,
                                   count=len(doses), due_at=max(t for _, t in doses)))
    if appointments:
        rows.append(ReminderOutbox(id=reminder_key(user.pk, APPOINTMENT, [(a.pk, None) for a in appointments]),
                                   user_id=user.pk, kind=APPOINTMENT, count=len(appointments), due_at=now))
    if rows:
        ReminderOutbox.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows), missed


def reminders_run(now: datetime | None = None) -> dict:
    """Walk every active user once; returns counts (users, reminders sent, doses written missed,
    failures, outbox rows dropped as too late)."""
    now = now or timezone.now()
    started = time.monotonic()
    max_delay = timedelta(minutes=conf.reminder_max_delay_minutes())
    users = get_user_model().objects.filter(deleted_at__isnull=True).only("id", "email", "name").order_by("id")
    sent = missed = failed = seen = dropped = 0
    send = channel()
    batch: list = []

    def flush():
        nonlocal sent, missed, failed, dropped
        outgoing = []  # (user, outbox ids): this run's rows and any a previous run left
        # One commit per batch. Each user's context is set in turn (transaction-local, gone at the
        # commit); only a user with work gets a savepoint, so one bad row rolls back only theirs.
        # The markers and the outbox rows of their emails are committed together.
        with transaction.atomic():
            for user in batch:
                set_context(user.pk)
                if not _has_work(user, now):
                    continue
                try:
                    with transaction.atomic():
                        _, written = _user_reminders(user, now)
                except Exception:  # one user's bad row must not stop everyone's reminders
                    logger.exception("health reminders: user %s failed", user.pk)
                    failed += 1
                else:
                    missed += written
                ids = list(ReminderOutbox.objects.filter(user_id=user.pk).order_by("due_at", "id").values_list("id", flat=True))
                if ids:
                    outgoing.append((user, ids))
            set_context(None)
        batch.clear()
        # Each email in its own short transaction: taken (locked, deleted), sent, committed. A kill
        # between the send and the commit sends that one email again on the rerun, same Message-ID.
        language_of = {}
        for user, ids in outgoing:
            for key in ids:
                try:
                    with transaction.atomic():
                        set_context(user.pk)
                        with connection.cursor() as cursor:
                            cursor.execute(_TAKE_SQL, [key])
                            row = cursor.fetchone()
                        if row is None:  # another run has it, or sent it
                            continue
                        kind, count, due_at = row
                        if due_at < now + timedelta(seconds=time.monotonic() - started) - max_delay:
                            dropped += 1  # too late to be of use: dropped, as a reminder never sent late
                            continue
                        if user.pk not in language_of:
                            language_of[user.pk] = getattr(getattr(user, "settings", None), "language", "") or ""
                        send.send(Reminder(user.pk, user.email, user.name or "", language_of[user.pk], kind, count, key))
                    sent += 1
                except Exception:  # the row stays for the next tick (until it is too late)
                    logger.exception("health reminders: sending to user %s failed", user.pk)
                    failed += 1

    for user in users.iterator(chunk_size=BATCH):
        seen += 1
        batch.append(user)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return {"users": seen, "sent": sent, "missed": missed, "failed": failed, "dropped": dropped}
