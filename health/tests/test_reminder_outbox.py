"""The reminders' outbox (health_reminder_outbox): written with the markers in one transaction,
sent afterwards one email per short transaction, leftovers of a killed run sent by the next one
(with the same Message-ID), too-late ones dropped; owner-only row-level security."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core import mail
from django.db import DatabaseError, connection

from core.tenancy import bypass, tenant
from health.models import Medication, ReminderOutbox
from health.reminders import EmailChannel, _user_reminders, message_id, reminder_key, reminders_run
from health.tests.conftest import make_medication, set_zone
from testutils.testing import make_user

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
START = datetime(2026, 6, 1, tzinfo=UTC)
EIGHT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class Killed(BaseException):
    """What a SIGKILL looks like from inside the process: nothing after it runs, nothing commits."""


class DiesAfterSending:
    """The email goes out, then the worker dies before the row's deletion commits."""

    def send(self, reminder):
        EmailChannel().send(reminder)
        raise Killed


class DiesBeforeSending:
    def send(self, reminder):
        raise Killed


def _rows(user) -> list[tuple]:
    with tenant(user.id):
        return list(ReminderOutbox.objects.values_list("id", "kind", "count", "due_at"))


def _marker(med):
    with tenant(med.user_id):
        return Medication.objects.values_list("reminded_until", flat=True).get(pk=med.pk)


@pytest.fixture
def dose(owner):
    set_zone(owner, "UTC")
    return make_medication(owner, since=START, name="Zoloft", dosage="50 mg", reminder_times=["08:00"])


def test_the_outbox_row_is_written_with_the_marker_in_one_transaction(owner, dose):
    now = EIGHT + timedelta(minutes=1)
    with pytest.raises(Killed), tenant(owner.id):
        assert _user_reminders(owner, now) == (1, 0)
        assert Medication.objects.get(pk=dose.pk).reminded_until == now
        (key, kind, count, due_at), = ReminderOutbox.objects.values_list("id", "kind", "count", "due_at")
        assert (key, kind, count, due_at) == (reminder_key(owner.pk, "medication", [(dose.pk, EIGHT)]), "medication", 1, EIGHT)
        raise Killed  # before the commit: neither the marker nor the row survives
    assert _marker(dose) == START and _rows(owner) == []
    with tenant(owner.id):
        _user_reminders(owner, now)
    assert _marker(dose) == now and len(_rows(owner)) == 1  # committed together


def test_a_sent_reminder_leaves_no_row_and_is_not_sent_again(owner, dose):
    assert reminders_run(now=EIGHT + timedelta(minutes=1))["sent"] == 1
    assert _rows(owner) == []
    assert reminders_run(now=EIGHT + timedelta(minutes=2))["sent"] == 0
    assert len(mail.outbox) == 1


def test_a_worker_killed_before_the_send_leaves_the_row_and_the_next_run_sends_it(owner, dose, settings):
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminder_outbox.DiesBeforeSending"
    with pytest.raises(Killed):
        reminders_run(now=EIGHT + timedelta(minutes=1))
    assert mail.outbox == [] and len(_rows(owner)) == 1  # the marker moved, the reminder is kept
    settings.HEALTH_REMINDER_CHANNEL = ""
    assert reminders_run(now=EIGHT + timedelta(minutes=2))["sent"] == 1
    assert [m.to for m in mail.outbox] == [[owner.email]] and _rows(owner) == []


def test_a_worker_killed_after_the_send_repeats_that_email_with_the_same_message_id(owner, dose, settings):
    settings.SITE_URL = "https://app.example.com"
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminder_outbox.DiesAfterSending"
    with pytest.raises(Killed):
        reminders_run(now=EIGHT + timedelta(minutes=1))
    settings.HEALTH_REMINDER_CHANNEL = ""
    reminders_run(now=EIGHT + timedelta(minutes=2))
    reminders_run(now=EIGHT + timedelta(minutes=3))
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    key = reminder_key(owner.pk, "medication", [(dose.pk, EIGHT)])
    assert ids == [f"<health-reminder.{key}@app.example.com>"] * 2  # the one in flight, once more, same message
    for message in mail.outbox:
        text = (message.subject + message.body).lower()
        assert "zoloft" not in text and "50 mg" not in text


def test_a_leftover_too_late_is_dropped_unsent(owner, dose, settings):
    settings.HEALTH_REMINDER_MAX_DELAY_MINUTES = 30
    settings.HEALTH_REMINDER_CHANNEL = "health.tests.test_reminder_outbox.DiesBeforeSending"
    with pytest.raises(Killed):
        reminders_run(now=EIGHT + timedelta(minutes=1))
    settings.HEALTH_REMINDER_CHANNEL = ""
    result = reminders_run(now=EIGHT + timedelta(minutes=31))
    assert (result["sent"], result["dropped"]) == (0, 1)
    assert mail.outbox == [] and _rows(owner) == []


def test_the_key_and_the_message_id_are_deterministic(owner, settings):
    settings.SITE_URL = "https://app.example.com"
    med_a, med_b = uuid.uuid4(), uuid.uuid4()
    at = EIGHT + timedelta(hours=4)
    one = reminder_key(owner.pk, "medication", [(med_a, EIGHT), (med_b, at)])
    assert one == reminder_key(owner.pk, "medication", [(med_b, at), (med_a, EIGHT)])  # whatever the order
    assert one == reminder_key(str(owner.pk), "medication", [(str(med_a), EIGHT), (str(med_b), at)])
    assert one != reminder_key(owner.pk, "medication", [(med_a, EIGHT)])
    assert one != reminder_key(owner.pk, "medication", [(med_a, EIGHT), (med_b, at + timedelta(minutes=1))])
    assert reminder_key(owner.pk, "appointment", [(med_a, None)]) != reminder_key(owner.pk, "medication", [(med_a, None)])
    assert message_id(one) == f"<health-reminder.{one}@app.example.com>" == message_id(uuid.UUID(str(one)))


def test_two_doses_at_once_are_one_email_and_one_row(owner, settings):
    set_zone(owner, "UTC")
    first = make_medication(owner, since=START, reminder_times=["08:00"])
    second = make_medication(owner, since=START, name="Aspirin", reminder_times=["08:00"])
    with tenant(owner.id):
        _user_reminders(owner, EIGHT + timedelta(minutes=1))
    (key, _, count, _), = _rows(owner)
    assert count == 2 and key == reminder_key(owner.pk, "medication", [(first.pk, EIGHT), (second.pk, EIGHT)])


# Row-level security, as the runtime role (neither superuser nor BYPASSRLS).


def test_the_tests_run_as_a_role_subject_to_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_the_outbox_has_forced_rls_and_the_owner_only_policy():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'health_reminder_outbox'::regclass")
        assert cursor.fetchone() == (True, True)
        cursor.execute("SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) FROM pg_policy "
                       "WHERE polrelid = 'health_reminder_outbox'::regclass")
        (using, check), = cursor.fetchall()
    for expression in (using, check):
        assert "user_id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS \"nullif\")" in expression
        assert "app.bypass" not in expression  # owner-only, like every health table


def _count(where="TRUE", params=()):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM health_reminder_outbox WHERE {where}", params)
        return cursor.fetchone()[0]


def test_another_user_cannot_read_change_or_delete_my_outbox_rows(owner, other, dose):
    staff = make_user("staffer@example.com", role="ADMIN")
    with tenant(owner.id):
        _user_reminders(owner, EIGHT + timedelta(minutes=1))
    (key, *_), = _rows(owner)
    with tenant(other.id):
        assert _count() == 0 and _count("user_id = %s", [owner.pk]) == 0
        assert not ReminderOutbox.objects.filter(pk=key).exists()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE health_reminder_outbox SET count = 9 WHERE id = %s", [key])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM health_reminder_outbox WHERE id = %s", [key])
            assert cursor.rowcount == 0
    with tenant(staff.id), bypass("test: a staff tool tries the reminder outbox"):
        assert _count() == 0
    assert _count() == 0  # no context at all
    with pytest.raises(DatabaseError) as failure, tenant(other.id):
        ReminderOutbox.objects.create(id=uuid.uuid4(), user=owner, kind="medication", count=1, due_at=EIGHT)
    assert failure.value.__cause__.sqlstate == "42501"
    assert [(k, c) for k, _, c, _ in _rows(owner)] == [(key, 1)]


def test_a_run_sends_each_person_only_their_own_outbox(owner, other, dose):
    set_zone(other, "UTC")
    make_medication(other, since=START, reminder_times=["09:00"])
    reminders_run(now=EIGHT + timedelta(minutes=1))
    assert [m.to for m in mail.outbox] == [[owner.email]] and _rows(other) == []
