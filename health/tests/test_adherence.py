"""Adherence on hand-made schedules, and the JSON's exact shape."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from core.tenancy import tenant
from health import selectors, services
from health.missed import write_missed
from health.tests.conftest import make_medication, set_zone

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
NOW = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def at(day, hour, minute=0):
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def schedule_owner(owner, settings):
    settings.HEALTH_DOSE_GRACE_MINUTES = 60
    set_zone(owner, "UTC")
    return owner


def _record(user, med, scheduled, action="take", taken_at=None, now=NOW):
    with tenant(user.id):
        return services.dose_record(user, med, scheduled=scheduled, action=action, taken_at=taken_at, now=now)


def _summary(user, days=7, now=NOW):
    with tenant(user.id):
        return selectors.adherence_summary(user, days, now=now)


def test_the_formula_on_a_hand_made_week(schedule_owner):
    user = schedule_owner
    med = make_medication(user, since=SINCE, reminder_times=["08:00", "20:00"])
    _record(user, med, at(11, 8), taken_at=at(11, 8, 5), now=at(11, 8, 5))  # on time
    _record(user, med, at(10, 20), taken_at=at(10, 21, 30), now=at(10, 21, 30))  # late: after the hour of grace
    _record(user, med, at(10, 8), action="skip", now=at(10, 8, 2))
    with tenant(user.id):
        write_missed(med, selectors.zone_of(user), at(9, 22))  # the job wrote 9th 20:00 as missed

    before = _summary(user)["medications"][0]
    # Due in the 7 days before 11th 12:00: 4th 20:00, 5th–10th twice, 11th 08:00 → 14.
    assert {k: before[k] for k in ("scheduled", "taken", "late", "skipped", "missed")} == {
        "scheduled": 14, "taken": 2, "late": 1, "skipped": 1, "missed": 11}
    assert before["percent"] == 14.3

    _record(user, med, at(9, 20), taken_at=at(9, 20, 10))  # backfill over the job's "missed"
    after = _summary(user)["medications"][0]
    assert (after["taken"], after["late"], after["missed"], after["percent"]) == (3, 1, 10, 21.4)


def test_future_doses_and_doses_inside_the_grace_window_are_not_due_yet(schedule_owner):
    user = schedule_owner
    med = make_medication(user, since=at(11, 0), reminder_times=["08:00", "20:00"])
    # At 08:30 the 08:00 dose is still in its grace window, 20:00 is to come: nothing due.
    assert _summary(user, now=at(11, 8, 30))["medications"][0]["scheduled"] == 0
    assert _summary(user, now=at(11, 8, 30))["medications"][0]["percent"] is None
    # Confirmed early or within grace, it is due (and taken).
    _record(user, med, at(11, 8), now=at(11, 7, 50))
    row = _summary(user, now=at(11, 8, 30))["medications"][0]
    assert (row["scheduled"], row["taken"], row["percent"]) == (1, 1, 100.0)


def test_as_needed_medications_are_left_out(schedule_owner):
    user = schedule_owner
    prn = make_medication(user, since=SINCE, name="Ibuprofen", frequency="as_needed", reminder_times=[])
    with tenant(user.id):
        services.dose_as_needed(user, prn, taken_at=at(10, 15), now=NOW)
    summary = _summary(user)
    assert summary["medications"] == []
    assert summary["overall"] == {"scheduled": 0, "taken": 0, "late": 0, "missed": 0, "skipped": 0, "percent": None}


def test_a_medication_started_mid_window_counts_from_its_start(schedule_owner):
    user = schedule_owner
    med = make_medication(user, since=SINCE, name="Amoxicillin", reminder_times=["09:00"], start_date=date(2026, 6, 9))
    _record(user, med, at(10, 9), taken_at=at(10, 9, 15))
    row = _summary(user, days=30)["medications"][0]
    assert (row["scheduled"], row["taken"], row["missed"], row["percent"]) == (3, 1, 2, 33.3)


def test_an_end_date_stops_the_schedule(schedule_owner):
    user = schedule_owner
    med = make_medication(user, since=SINCE, reminder_times=["09:00"], end_date=date(2026, 6, 5))
    row = _summary(user, days=30)["medications"][0]
    assert row["scheduled"] == 5  # 1st to 5th
    assert med.end_date == date(2026, 6, 5)


def test_weekdays_and_every_n_hours(schedule_owner):
    user = schedule_owner
    # 2026-06-01 is a Monday; Mondays and Thursdays at 10:00 over the 1st–10th: 1, 4, 8 → 3 doses.
    make_medication(user, since=SINCE, name="Weekly", frequency="weekdays", weekdays=[0, 3], reminder_times=["10:00"])
    # Every 8 hours from 06:00 → 06, 14, 22 each day.
    make_medication(user, since=at(10, 0), name="Interval", frequency="interval", interval_hours=8, reminder_times=["06:00"])
    rows = {r["name"]: r for r in _summary(user, days=30, now=at(11, 0))["medications"]}
    assert rows["Weekly"]["scheduled"] == 3
    assert rows["Interval"]["scheduled"] == 3  # 10th 06, 14, 22


def test_overall_adds_the_medications(schedule_owner):
    user = schedule_owner
    a = make_medication(user, since=at(10, 0), name="A", reminder_times=["08:00"])
    make_medication(user, since=at(10, 0), name="B", reminder_times=["09:00"])
    _record(user, a, at(10, 8), taken_at=at(10, 8))
    _record(user, a, at(11, 8), taken_at=at(11, 10), now=at(11, 10))
    overall = _summary(user)["overall"]
    assert overall == {"scheduled": 4, "taken": 2, "late": 1, "missed": 2, "skipped": 0, "percent": 50.0}


def test_editing_the_times_keeps_the_past(schedule_owner, settings):
    user = schedule_owner
    med = make_medication(user, since=timezone.now() - timedelta(days=3), reminder_times=["00:00"])
    before = _summary(user, now=timezone.now())["medications"][0]["scheduled"]
    with tenant(user.id):
        services.medication_save(user, med, **{"reminder_times": ["23:59"]})
    after = _summary(user, now=timezone.now())["medications"][0]
    assert after["scheduled"] >= before >= 2  # 2 or 3 depending on the hour the test runs
    assert after["missed"] == after["scheduled"]


def test_the_json_has_the_exact_shape(schedule_owner, owner_client):
    user = schedule_owner
    med = make_medication(user, since=timezone.now() - timedelta(days=2), reminder_times=["00:00", "12:00"])
    make_medication(user, since=timezone.now() - timedelta(days=2), name="PRN", frequency="as_needed", reminder_times=[])
    response = owner_client.get("/health/adherence.json?days=7")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert set(data) == {"overall", "medications"}
    fields = {"scheduled", "taken", "late", "missed", "skipped", "percent"}
    assert set(data["overall"]) == fields
    assert [set(row) for row in data["medications"]] == [fields | {"id", "name"}]
    row = data["medications"][0]
    assert row["id"] == str(med.pk) and row["name"] == "Metformin"
    for name in fields - {"percent"}:
        assert type(row[name]) is int and type(data["overall"][name]) is int
    assert row["scheduled"] >= 3 and row["percent"] == 0.0 and row["missed"] == row["scheduled"]


@pytest.mark.parametrize("days", ["0", "8", "abc", "\x00", "-7", "99999999999999999999"])
def test_the_json_refuses_other_windows(owner_client, days):
    response = owner_client.get("/health/adherence.json", {"days": days})
    assert response.status_code == 400
    assert "7, 30 or 90" in response.json()["error"]


@pytest.mark.parametrize("days", [7, 30, 90])
def test_every_window_answers(owner_client, days):
    assert owner_client.get(f"/health/adherence.json?days={days}").json()["overall"]["percent"] is None
