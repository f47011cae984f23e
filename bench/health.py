"""Health: the reminder job over many users, and the adherence and measurement pages with a long history.

    .venv/bin/python bench/health.py [--users 1000] [--with-medications 300] [--days 90]

1. ``health.reminders.reminders_run`` (one beat tick) for ``--users`` people, ``--with-medications``
   of them with two medications at three times a day and an appointment tomorrow: time of a tick
   that sends nothing, and of a tick at 08:00 that sends every reminder (locmem email backend) and
   writes the missed doses. The job runs every minute, so a tick must stay well under 60 s.
   Aim: under 10 s for 1,000 users.
2. One person with 10 medications at three times a day for ``--days`` days (2,700 doses, about 80 %
   recorded), and 5,000 measurements: ``/health/medications/`` (three windows),
   ``/health/adherence.json?days=90&series=1`` and ``/health/measurements/`` through Django's test
   client, median of 7. Aim: each under 500 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from _setup import scratch_database

UTC = dt_timezone.utc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--with-medications", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    plan, database = scratch_database("health_bench")

    from django.conf import settings
    from django.db import transaction

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail
    from django.test import Client

    from accounts.models import User, UserSettings
    from core.tenancy import tenant
    from health.models import HealthMeasurement, HealthProfile, MedicalAppointment, Medication, MedicationLog
    from health.reminders import reminders_run

    mail.outbox = []
    rng = random.Random(15)
    day = datetime(2026, 6, 10, tzinfo=UTC)
    started = time.monotonic()
    users = User.objects.bulk_create([User(email=f"h{i}@example.com", name=f"H {i}") for i in range(args.users)])
    for user in users[: args.with_medications]:
        with tenant(user.id):
            UserSettings.objects.filter(user=user).update(timezone="UTC")
            profile = HealthProfile.objects.create(user=user)
            for name in ("A", "B"):
                Medication.objects.create(health_profile=profile, user=user, name=name, dosage="1", frequency="daily",
                                          reminder_times=["08:00", "14:00", "20:00"], reminder_enabled=True,
                                          tracked_since=day - timedelta(days=1), reminded_until=day - timedelta(days=1))
            MedicalAppointment.objects.create(health_profile=profile, user=user, scheduled_date=day + timedelta(hours=20))
    print(f"{args.users} users ({args.with_medications} with medications) in {time.monotonic() - started:.1f}s")

    quiet = []
    for minute in (1, 2, 3):
        t = time.monotonic()
        reminders_run(now=day.replace(hour=7) - timedelta(minutes=minute))
        quiet.append(time.monotonic() - t)
    mail.outbox = []
    t = time.monotonic()
    result = reminders_run(now=day.replace(hour=8, minute=1))
    busy = time.monotonic() - t
    print(f"1. reminder tick, nothing due: {statistics.median(quiet) * 1000:.0f} ms (median of 3)")
    print(f"   reminder tick at 08:01: {busy * 1000:.0f} ms — {result['sent']} emails, {result['missed']} doses written missed "
          f"({len(mail.outbox)} in the outbox)")

    person = User.objects.create(email="long@example.com", name="Long History")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with tenant(person.id), transaction.atomic():
        UserSettings.objects.filter(user=person).update(timezone="UTC")
        profile = HealthProfile.objects.create(user=person)
        logs = []
        for m in range(10):
            med = Medication.objects.create(health_profile=profile, user=person, name=f"Med {m}", dosage="1", frequency="daily",
                                            reminder_times=["08:00", "14:00", "20:00"], tracked_since=now - timedelta(days=args.days + 1))
            for d in range(args.days):
                for hour in (8, 14, 20):
                    when = (now - timedelta(days=d)).replace(hour=hour, minute=0)
                    if when < now - timedelta(hours=1) and rng.random() < 0.8:
                        logs.append(MedicationLog(medication=med, user=person, scheduled_time=when, taken_time=when,
                                                  status="tomado" if rng.random() < 0.9 else "retrasado"))
        MedicationLog.objects.bulk_create(logs, batch_size=2000)
        HealthMeasurement.objects.bulk_create([
            HealthMeasurement(health_profile=profile, user=person, type=rng.choice(["WEIGHT", "HEART_RATE", "BLOOD_PRESSURE"]),
                              value={"kg": 70 + rng.random(), "bpm": 60 + rng.randint(0, 30), "systolic": 120, "diastolic": 80},
                              measured_at=now - timedelta(hours=i)) for i in range(5000)], batch_size=2000)
    print(f"2. one person: 10 medications, {len(logs)} dose records, 5,000 measurements")
    client = Client()
    client.force_login(person)
    for path in ("/health/medications/", "/health/adherence.json?days=90&series=1", "/health/measurements/", "/health/"):
        times = []
        for _ in range(7):
            t = time.monotonic()
            response = client.get(path)
            times.append(time.monotonic() - t)
            assert response.status_code == 200, (path, response.status_code)
        print(f"   {path}: {statistics.median(times) * 1000:.0f} ms (median of 7)")

    from django.db import connections

    from config import bootstrap

    for connection in connections.all():
        connection.close()
    bootstrap.drop_database(plan, database)


if __name__ == "__main__":
    main()
