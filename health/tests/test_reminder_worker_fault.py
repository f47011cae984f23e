"""The reminder job under a fault (issue 14): a real Celery worker is SIGKILLed in the middle of
``health.send_reminders``; the task goes back to the queue (acks_late + reject_on_worker_lost) and
runs again.

What the job promises (health/reminders.py): per batch of users, the markers and the emails to send
(the outbox) are committed together; each email is then sent and its row deleted in one short
transaction. After the kill and the rerun everyone whose dose was due got their reminder; no email
was sent twice except, at most, the one in flight at the kill, and then with the same Message-ID
(built from the reminder's idempotency key), so it is the same message to the recipient's mail
system. The worker writes its emails as files (Django's file backend), so the test reads what was
sent.
"""

from __future__ import annotations

import email
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.celery import app as celery_app
from core.tenancy import set_context
from core.tests.test_worker_faults import _worker, private  # noqa: F401 (the fixture)
from health import schedule
from health.models import HealthProfile, Medication, ReminderOutbox
from health.reminders import BATCH, reminder_key
from testutils.services import child_pids, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability, pytest.mark.timeout(120)]

PEOPLE = 2 * BATCH + BATCH // 2  # three batches: the kill lands with some committed and sent, most not


def _messages(outbox: Path) -> list[email.message.Message]:
    """Every email the worker wrote, one entry per email (duplicates kept)."""
    messages = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip()))
    return messages


def _sent(outbox: Path) -> list[str]:
    """The recipient of every email the worker wrote (duplicates kept)."""
    return [message.get("To") for message in _messages(outbox)]


def _people(now) -> list[User]:
    """PEOPLE accounts, each with one daily medication whose dose fell five minutes ago."""
    users = User.objects.bulk_create([User(email=f"dose-{n:04d}@example.com", name=f"Person {n}", password="!") for n in range(PEOPLE)])
    dose = (now - timedelta(minutes=5)).astimezone(schedule.zone("")).strftime("%H:%M")  # none has a zone: the site's
    since = now - timedelta(minutes=10)
    with transaction.atomic():  # one transaction, each person's rows written under their own context
        for user in users:
            set_context(user.pk)
            profile = HealthProfile.objects.create(user=user)
            Medication.objects.create(health_profile=profile, user=user, name="Metformin", dosage="500 mg", frequency="daily",
                                      reminder_times=[dose], reminder_enabled=True, tracked_since=since, reminded_until=since)
    return sorted(users, key=lambda u: u.pk)


def _state(users) -> tuple[dict, dict, int]:
    """Read under each person's own context: email → their medication's marker, email → that
    medication's id (with the dose instant, what their reminder's key is made of), outbox rows left."""
    markers, medications, left = {}, {}, 0
    with transaction.atomic():
        for user in users:
            set_context(user.pk)
            med, markers[user.email] = Medication.objects.values_list("pk", "reminded_until").get(user=user)
            medications[user.email] = med
            left += ReminderOutbox.objects.count()
    return markers, medications, left


def test_a_worker_killed_in_the_middle_of_the_reminders_job_sends_every_reminder_once(private, tmp_path, settings):  # noqa: F811
    now = timezone.now().replace(second=0, microsecond=0)
    dose_at = now - timedelta(minutes=5)
    users = _people(now)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    with _worker(private, EMAIL_URL=f"filemail:///{outbox}") as worker:
        celery_app.send_task("health.send_reminders")
        wait_until(lambda: _sent(outbox), timeout=60, interval=0.02, message="the first batch's emails")
        (child,) = child_pids(worker.pid)
        os.kill(child, signal.SIGKILL)  # after a batch was committed, while its emails go out
        at_kill = len(_sent(outbox))
        assert at_kill < PEOPLE, "the job finished before it could be killed: give it more people"
        log = Path(worker.log_path)
        # The killed run never succeeds: a success is the task delivered again and run to the end.
        wait_until(lambda: " succeeded in " in log.read_text(errors="replace"), timeout=90, message="the task to run again and finish")
        log = log.read_text(errors="replace")
    assert "WorkerLostError" in log or "SIGKILL" in log

    messages = _messages(outbox)
    markers, medications, left = _state(users)
    assert all(m > now - timedelta(minutes=10) for m in markers.values()), "someone's dose was never handled"
    assert left == 0, "reminders were left in the outbox"
    # Everyone whose dose was due got their reminder: nobody is lost.
    by_person: dict[str, set] = {}
    for message in messages:
        by_person.setdefault(message["To"], set()).add(message["Message-ID"])
    assert set(by_person) == {u.email for u in users}
    # Each person's email carries the Message-ID of their dose's idempotency key, and only that one.
    for user in users:
        key = reminder_key(user.pk, "medication", [(medications[user.email], dose_at)])
        assert by_person[user.email] == {f"<health-reminder.{key}@{_host(settings)}>"}
    # No Message-ID in more than one email, except at most the one in flight at the kill (twice).
    counts = sorted((sum(1 for m in messages if m["Message-ID"] == mid) for mid in {m["Message-ID"] for m in messages}), reverse=True)
    assert counts[0] <= 2 and counts[1:2] in ([], [1])
    assert len(messages) in (PEOPLE, PEOPLE + 1)
    # Every email is the medication reminder, and none names the medication.
    bodies = "".join(path.read_text() for path in outbox.glob("*.log"))
    assert bodies.count("Subject: [cjhirashi-agents] A medication reminder") == len(messages)
    assert "Metformin" not in bodies and "500 mg" not in bodies


def _host(settings) -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "localhost"
