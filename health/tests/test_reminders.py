"""Reminders at local wall time across daylight-saving changes; missed doses; private emails."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core import mail

from core.tenancy import tenant
from health import schedule
from health.models import MedicalAppointment, MedicationLog
from health.reminders import reminders_run
from health.tests.conftest import make_medication, set_zone
from testutils import factories

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


def _run_every(step_minutes: int, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Run the job every ``step_minutes`` from start to end; (run time, emails sent) per sending run."""
    sends = []
    now = start
    while now <= end:
        before = len(mail.outbox)
        reminders_run(now=now)
        if len(mail.outbox) > before:
            sends.append((now, len(mail.outbox) - before))
        now += timedelta(minutes=step_minutes)
    return sends


# (zone, the change's local date, days around it); Europe: last Sundays of March and October 2026;
# America/New_York: second Sunday of March and first Sunday of November 2026.
CHANGES = [
    ("Europe/Madrid", datetime(2026, 3, 29)),
    ("Europe/Madrid", datetime(2026, 10, 25)),
    ("America/New_York", datetime(2026, 3, 8)),
    ("America/New_York", datetime(2026, 11, 1)),
]


@pytest.mark.parametrize("zone,change", CHANGES, ids=[f"{z}-{c:%m}" for z, c in CHANGES])
def test_an_eight_oclock_dose_stays_at_eight_local_across_the_change(owner, zone, change, settings):
    settings.HEALTH_DOSE_GRACE_MINUTES = 60
    set_zone(owner, zone)
    tz = zoneinfo.ZoneInfo(zone)
    start = datetime.combine((change - timedelta(days=2)).date(), datetime.min.time(), tz).astimezone(UTC)
    end = start + timedelta(days=4, hours=-1)
    med = make_medication(owner, since=start, reminder_times=["08:00"])

    sends = _run_every(10, start, end)

    # One email per day, each within ten minutes after 08:00 local, on both sides of the change.
    assert [count for _, count in sends] == [1, 1, 1, 1]
    local = [when.astimezone(tz) for when, _ in sends]
    assert [d.date() for d in local] == [(change + timedelta(days=k)).date() for k in (-2, -1, 0, 1)]
    assert all(d.hour == 8 and d.minute < 10 for d in local), local
    offsets = {d.utcoffset() for d in local}
    assert len(offsets) == 2  # the UTC instant did move by the change
    # Every dose past its grace window is written missed exactly once, at 08:00 local.
    with tenant(owner.id):
        logs = list(MedicationLog.objects.filter(medication=med).order_by("scheduled_time"))
    assert [log.scheduled_time.astimezone(tz).strftime("%d %H:%M") for log in logs] == [
        (change + timedelta(days=k)).strftime("%d 08:00") for k in (-2, -1, 0, 1)]
    assert {(log.status, log.recorded_by) for log in logs} == {("omitido", "system")}


def test_running_twice_at_the_same_minute_sends_once(owner, settings):
    set_zone(owner, "Europe/Madrid")
    start = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
    make_medication(owner, since=start, reminder_times=["08:00"])  # 06:00 UTC in summer
    at = datetime(2026, 6, 1, 6, 1, tzinfo=UTC)
    reminders_run(now=at)
    reminders_run(now=at)
    reminders_run(now=at + timedelta(minutes=1))
    assert len(mail.outbox) == 1


def test_a_wall_time_in_the_spring_gap_or_the_autumn_fold_is_one_dose():
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    new_york = zoneinfo.ZoneInfo("America/New_York")

    class Med:
        frequency, reminder_times, interval_hours, weekdays = "daily", ["02:30"], None, []
        start_date = end_date = tracked_since = None

    spring = schedule.doses(Med, madrid, datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC))
    assert len(spring) == 2  # the 29th's 02:30 does not exist: one dose at 03:30 CEST, not none
    assert spring[1].astimezone(madrid).strftime("%d %H:%M") == "30 02:30"
    Med.reminder_times = ["01:30"]
    autumn = schedule.doses(Med, new_york, datetime(2026, 11, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 0, tzinfo=UTC))
    assert len(autumn) == 1  # 01:30 happens twice that night: one dose, the first


def test_a_reminder_too_late_is_dropped_not_sent(owner, settings):
    settings.HEALTH_REMINDER_MAX_DELAY_MINUTES = 30
    set_zone(owner, "UTC")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    make_medication(owner, since=start, reminder_times=["08:00"])
    reminders_run(now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))  # the worker was down an hour
    assert mail.outbox == []


def test_reminder_email_names_neither_the_medication_nor_the_dose(owner, settings):
    settings.SITE_URL = "https://app.example.com"
    set_zone(owner, "UTC")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    make_medication(owner, since=start, name="Zoloft", generic_name="sertraline", dosage="50 mg", reminder_times=["08:00"])
    reminders_run(now=datetime(2026, 6, 1, 8, 0, 30, tzinfo=UTC))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    text = (message.subject + message.body).lower()
    for secret in ("zoloft", "sertraline", "50 mg"):
        assert secret not in text
    assert "a medication reminder" in message.subject.lower()
    assert "https://app.example.com/health/" in message.body
    assert message.to == [owner.email]


def test_disabled_reminders_still_mark_missed(owner, settings):
    set_zone(owner, "UTC")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    med = make_medication(owner, since=start, reminder_enabled=False, reminder_times=["08:00"])
    reminders_run(now=datetime(2026, 6, 1, 8, 5, tzinfo=UTC))
    reminders_run(now=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    assert mail.outbox == []
    with tenant(owner.id):
        assert MedicationLog.objects.filter(medication=med, status="omitido", recorded_by="system").count() == 1


def test_confirmed_doses_are_not_marked_missed(owner, owner_client, settings):
    from health import services

    set_zone(owner, "UTC")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    med = make_medication(owner, since=start, reminder_times=["08:00"])
    dose = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with tenant(owner.id):
        services.dose_record(owner, med, scheduled=dose, action="take", now=dose + timedelta(minutes=5))
    reminders_run(now=dose + timedelta(hours=3))
    with tenant(owner.id):
        assert list(MedicationLog.objects.filter(medication=med).values_list("status", "recorded_by")) == [("tomado", "user")]


def test_appointment_reminder_the_day_before_once_and_private(owner):
    with tenant(owner.id):
        appointment = factories.medical_appointment(owner)
        MedicalAppointment.objects.filter(pk=appointment.pk).update(
            scheduled_date=datetime(2026, 6, 2, 9, 0, tzinfo=UTC), specialty="Oncology", reason="Biopsy results")
    reminders_run(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))  # 25 h before: not yet
    assert mail.outbox == []
    reminders_run(now=datetime(2026, 6, 1, 9, 30, tzinfo=UTC))
    reminders_run(now=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    assert len(mail.outbox) == 1
    text = (mail.outbox[0].subject + mail.outbox[0].body).lower()
    assert "oncology" not in text and "biopsy" not in text
    assert "appointment" in text


def test_one_users_reminders_reach_only_that_user(owner, other):
    for user in (owner, other):
        set_zone(user, "UTC")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    make_medication(owner, since=start, reminder_times=["08:00"])
    make_medication(other, since=start, reminder_times=["09:00"])
    reminders_run(now=datetime(2026, 6, 1, 8, 1, tzinfo=UTC))
    assert [m.to for m in mail.outbox] == [[owner.email]]


class RecordingChannel:
    sent: list = []

    def send(self, reminder):
        RecordingChannel.sent.append(reminder)


class BrokenChannel:
    def send(self, reminder):
        raise ConnectionError("smtp down")


def test_the_channel_is_one_small_interface(owner, settings):
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminders.RecordingChannel"
    RecordingChannel.sent = []
    set_zone(owner, "UTC")
    make_medication(owner, since=datetime(2026, 6, 1, tzinfo=UTC), reminder_times=["08:00", "08:00"])
    reminders_run(now=datetime(2026, 6, 1, 8, 0, 10, tzinfo=UTC))
    assert [(r.user_id, r.kind, r.count) for r in RecordingChannel.sent] == [(owner.pk, "medication", 1)]
    assert mail.outbox == []


def test_a_failed_send_is_tried_again_while_on_time_and_stops_no_one(owner, other, settings, caplog):
    settings.HEALTH_REMINDER_MAX_DELAY_MINUTES = 30
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminders.BrokenChannel"
    for user in (owner, other):
        set_zone(user, "UTC")
        make_medication(user, since=datetime(2026, 6, 1, tzinfo=UTC), reminder_times=["08:00"])
    first = reminders_run(now=datetime(2026, 6, 1, 8, 1, tzinfo=UTC))
    assert (first["sent"], first["failed"]) == (0, 2)
    # The outbox kept both emails: the next tick, with the mail server back, sends them (once).
    settings.HEALTH_REMINDER_CHANNEL = ""
    again = reminders_run(now=datetime(2026, 6, 1, 8, 2, tzinfo=UTC))
    assert (again["sent"], again["failed"]) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, other.email])
    assert reminders_run(now=datetime(2026, 6, 1, 8, 3, tzinfo=UTC))["sent"] == 0
    assert len(mail.outbox) == 2


def test_a_send_failing_past_the_maximum_delay_is_dropped(owner, settings, caplog):
    settings.HEALTH_REMINDER_MAX_DELAY_MINUTES = 30
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminders.BrokenChannel"
    set_zone(owner, "UTC")
    make_medication(owner, since=datetime(2026, 6, 1, tzinfo=UTC), reminder_times=["08:00"])
    assert reminders_run(now=datetime(2026, 6, 1, 8, 1, tzinfo=UTC))["failed"] == 1
    settings.HEALTH_REMINDER_CHANNEL = ""
    late = reminders_run(now=datetime(2026, 6, 1, 8, 31, tzinfo=UTC))  # the 08:00 dose is 31 minutes old
    assert (late["sent"], late["dropped"]) == (0, 1)
    assert mail.outbox == []
