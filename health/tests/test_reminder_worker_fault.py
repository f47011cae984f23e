"""The reminder job under a fault (issue 14): a real Celery worker is SIGKILLed in the middle of
``health.send_reminders``; the task goes back to the queue (acks_late + reject_on_worker_lost) and
runs again.

What the job promises (health/reminders.py): markers are committed per batch of users *before* the
batch's emails go out, so a reminder is sent at most once; a kill between a batch's commit and the
end of its sending may lose the rest of that batch, never more, and never sends anything twice.
The worker writes its emails as files (Django's file backend), so the test reads what was sent.
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
from health.models import HealthProfile, Medication
from health.reminders import BATCH
from testutils.services import child_pids, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability, pytest.mark.timeout(120)]

PEOPLE = 2 * BATCH + BATCH // 2  # three batches: the kill lands with some committed and sent, most not


def _sent(outbox: Path) -> list[str]:
    """The recipient of every email the worker wrote, one entry per email (duplicates kept)."""
    recipients = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                recipients.append(email.message_from_bytes(chunk.strip()).get("To"))
    return recipients


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


def _markers(users) -> dict:
    """email → the reminder marker of that person's medication (read under their own context)."""
    out = {}
    with transaction.atomic():
        for user in users:
            set_context(user.pk)
            out[user.email] = Medication.objects.values_list("reminded_until", flat=True).get(user=user)
    return out


def test_a_worker_killed_in_the_middle_of_the_reminders_job_sends_each_reminder_at_most_once(private, tmp_path):  # noqa: F811
    now = timezone.now().replace(second=0, microsecond=0)
    users = _people(now)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    with _worker(private, EMAIL_URL=f"filemail:///{outbox}") as worker:
        celery_app.send_task("health.send_reminders")
        wait_until(lambda: _sent(outbox), timeout=60, interval=0.02, message="the first batch's emails")
        (child,) = child_pids(worker.pid)
        os.kill(child, signal.SIGKILL)  # after at least one batch was committed and (partly) sent
        at_kill = len(_sent(outbox))
        assert at_kill < PEOPLE, "the job finished before it could be killed: give it more people"
        log = Path(worker.log_path)
        # The killed run never succeeds: a success is the task delivered again and run to the end.
        wait_until(lambda: " succeeded in " in log.read_text(errors="replace"), timeout=90, message="the task to run again and finish")
        log = log.read_text(errors="replace")
    assert "WorkerLostError" in log or "SIGKILL" in log

    sent = _sent(outbox)
    assert len(sent) == len(set(sent)), "a reminder was sent twice"
    markers = _markers(users)
    assert all(m > now - timedelta(minutes=10) for m in markers.values()), "someone's dose was never handled"
    first_run, *later = sorted(set(markers.values()))
    assert len(later) <= 1  # the killed run moved some markers, the second run all the others
    # Everyone the second run reached got their email; only people of the batch being sent when the
    # worker died can be without one (their marker was committed by the first run): at most once.
    assert all(address in sent for address, marker in markers.items() if marker != first_run)
    lost = [u.email for u in users if u.email not in sent]
    assert all(markers[address] == first_run for address in lost)
    assert len(lost) <= BATCH
    if lost:  # one batch, consecutive in the job's order (by id)
        positions = [i for i, u in enumerate(users) if u.email in lost]
        assert positions[-1] - positions[0] < BATCH
    assert len(sent) + len(lost) == PEOPLE
    # Every email is the medication reminder, and none names the medication.
    bodies = "".join(path.read_text() for path in outbox.glob("*.log"))
    assert bodies.count("Subject: [cjhirashi-agents] A medication reminder") == len(sent)
    assert "Metformin" not in bodies and "500 mg" not in bodies
