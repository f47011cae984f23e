"""Bad input: clear translated messages, status 400 or a message, nothing half-saved, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.tenancy import tenant
from health.models import HealthMeasurement, HealthProfile, Medication, MedicationLog
from health.tests.conftest import make_medication, set_zone
from testutils.testing import messages_of

pytestmark = pytest.mark.django_db


def _measurements(user):
    with tenant(user.id):
        return HealthMeasurement.objects.count()


@pytest.mark.parametrize("data,message", [
    ({"type": "BLOOD_PRESSURE", "systolic": "80", "diastolic": "120"}, "must be above the diastolic"),
    ({"type": "BLOOD_PRESSURE", "systolic": "100", "diastolic": "100"}, "must be above the diastolic"),
    ({"type": "BLOOD_PRESSURE", "systolic": "", "diastolic": "80"}, "Enter the systolic pressure"),
    ({"type": "WEIGHT", "amount": "-70"}, "must be more than zero"),
    ({"type": "WEIGHT", "amount": "2000"}, "A weight of 2000 kg is not plausible"),
    ({"type": "WEIGHT", "amount": "seventy"}, "must be a number"),
    ({"type": "WEIGHT", "amount": "NaN"}, "must be a number"),
    ({"type": "GLUCOSE", "amount": "5.5", "unit": ""}, "Choose the glucose unit"),
    ({"type": "GLUCOSE", "amount": "5.5", "unit": "mg"}, "Unknown glucose unit"),
    ({"type": "GLUCOSE", "amount": "5.5", "unit": "mg/dL"}, "is not plausible"),
    ({"type": "HEART_RATE", "amount": "900"}, "is not plausible"),
    ({"type": "TEMPERATURE", "amount": "98.6"}, "is not plausible"),  # Fahrenheit typed while the unit is °C
    ({"type": "OXYGEN", "amount": "101"}, "is not plausible"),
    ({"type": "NOT_A_TYPE", "amount": "1"}, "Select a valid choice"),
])
def test_bad_measurements_are_refused(owner, owner_client, data, message):
    response = owner_client.post("/health/measurements/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _measurements(owner) == 0


def test_a_measurement_in_the_future_is_refused(owner, owner_client):
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post("/health/measurements/", {"type": "HEART_RATE", "amount": "60", "measured_at": later})
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()
    assert _measurements(owner) == 0


def test_good_measurements_are_stored_canonically(owner, owner_client):
    with tenant(owner.id):
        HealthProfile.objects.create(user=owner, weight_unit="lb", temperature_unit="F", glucose_unit="mmol/L")
    for data in ({"type": "WEIGHT", "amount": "154.3"}, {"type": "TEMPERATURE", "amount": "98.6"},
                 {"type": "GLUCOSE", "amount": "5.5", "unit": "mmol/L", "context": "fasting"},
                 {"type": "BLOOD_PRESSURE", "systolic": "120", "diastolic": "80"}):
        assert owner_client.post("/health/measurements/", data).status_code == 302
    with tenant(owner.id):
        values = {m.type: m.value for m in HealthMeasurement.objects.all()}
    assert values["WEIGHT"] == {"kg": 69.99}
    assert values["TEMPERATURE"] == {"celsius": 37.0}
    assert values["GLUCOSE"] == {"mg_dl": 99.1, "unit": "mmol/L", "context": "fasting"}
    assert values["BLOOD_PRESSURE"] == {"systolic": 120, "diastolic": 80}
    page = owner_client.get("/health/measurements/").content.decode()
    assert "154.3 lb" in page and "98.6 °F" in page and "5.5 mmol/L" in page and "120/80 mmHg" in page


@pytest.mark.parametrize("data,message", [
    ({"weight": "-3", "weight_unit": "kg"}, "must be more than zero"),
    ({"weight": "2000", "weight_unit": "kg"}, "A weight of 2000 kg is not plausible"),
    ({"weight": "1500", "weight_unit": "lb"}, "A weight of 1500 lb is not plausible"),
    ({"height": "900", "height_unit": "cm"}, "not plausible"),
    ({"birth_date": "2999-01-01"}, "cannot be in the future"),
    ({"weight_unit": "stone"}, "Select a valid choice"),
])
def test_bad_profile_values_are_refused_and_nothing_is_saved(owner, owner_client, data, message):
    base = {"weight_unit": "kg", "height_unit": "cm", "temperature_unit": "C", "glucose_unit": "mg/dL", "blood_type": "B+"}
    response = owner_client.post("/health/profile/", {**base, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant(owner.id):
        assert not HealthProfile.objects.filter(blood_type="B+").exists()


def test_profile_in_pounds_and_feet_is_stored_in_kg_and_cm(owner, owner_client):
    data = {"weight": "165", "weight_unit": "lb", "height_unit": "ft_in", "height_feet": "5", "height_inches": "10",
            "temperature_unit": "F", "glucose_unit": "mmol/L", "blood_type": "O-", "sex": "FEMALE", "birth_date": "1985-04-12",
            "notes": "Keep away from penicillin"}
    assert owner_client.post("/health/profile/", data).status_code == 302
    with tenant(owner.id):
        profile = HealthProfile.objects.get(user=owner)
    assert str(profile.weight) == "74.84" and str(profile.height) == "177.8"
    assert profile.birth_date == "1985-04-12" and profile.encrypted_data == "Keep away from penicillin"
    page = owner_client.get("/health/profile/").content.decode()
    assert 'value="165.0"' in page or 'value="165"' in page
    assert "5 ft 10 in" in owner_client.get("/health/").content.decode()


MEDICATION = {"name": "Lisinopril", "dosage": "10 mg", "frequency": "daily", "times": "08:00", "is_active": "on"}


@pytest.mark.parametrize("data,message", [
    ({"times": "25:00"}, "“25:00” is not a time"),
    ({"times": "08:00, 7pm"}, "“7pm” is not a time"),
    ({"times": ""}, "Give at least one time"),
    ({"start_date": "2026-05-10", "end_date": "2026-05-01"}, "The end date cannot be before the start date"),
    ({"frequency": "interval", "interval_hours": ""}, "Say every how many hours"),
    ({"frequency": "interval", "interval_hours": "30"}, "Choose between 1 and 24 hours"),
    ({"frequency": "weekdays"}, "Choose at least one weekday"),
    ({"frequency": "hourly"}, "Select a valid choice"),
    ({"stock_count": "-1"}, "greater than or equal to 0"),
    ({"name": ""}, "This field is required"),
])
def test_bad_medications_are_refused(owner, owner_client, data, message):
    response = owner_client.post("/health/medications/new/", {**MEDICATION, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant(owner.id):
        assert not Medication.objects.exists()


def test_a_dose_confirmed_twice_is_recorded_once(owner, owner_client):
    set_zone(owner, "UTC")
    now = timezone.now().replace(second=0, microsecond=0)
    med = make_medication(owner, since=now - timedelta(days=1), reminder_times=[(now - timedelta(minutes=10)).strftime("%H:%M")],
                          stock_count=10)
    scheduled = now - timedelta(minutes=10)
    post = {"scheduled": scheduled.isoformat(), "action": "take", "next": "/health/"}
    first = owner_client.post(f"/health/medications/{med.pk}/doses/", post, follow=True)
    assert "Dose recorded as taken." in messages_of(first)
    second = owner_client.post(f"/health/medications/{med.pk}/doses/", post, follow=True)
    assert "This dose is already recorded." in messages_of(second)
    with tenant(owner.id):
        assert list(MedicationLog.objects.filter(medication=med).values_list("status", flat=True)) == ["tomado"]
        assert Medication.objects.get(pk=med.pk).stock_count == 9


def test_a_backfill_in_the_future_is_refused(owner, owner_client):
    set_zone(owner, "UTC")
    now = timezone.now().replace(second=0, microsecond=0)
    scheduled = now - timedelta(hours=5)
    med = make_medication(owner, since=now - timedelta(days=1), reminder_times=[scheduled.strftime("%H:%M")])
    later = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(f"/health/medications/{med.pk}/doses/",
                                 {"scheduled": scheduled.isoformat(), "action": "take", "taken_at": later}, follow=True)
    assert "A dose cannot be recorded as taken in the future." in messages_of(response)
    with tenant(owner.id):
        assert not MedicationLog.objects.exists()


@pytest.mark.parametrize("post", [
    {"scheduled": "not a date", "action": "take"},
    {"scheduled": "\x00", "action": "take"},
    {"action": "take"},
    {"scheduled": "2026-01-01T08:00:00+00:00", "action": "explode"},
    {"scheduled": "2026-01-01T08:07:00+00:00", "action": "take"},  # no dose at that time
    {"scheduled": "2026-01-01T08:00:00+00:00", "action": "take", "taken_at": "yesterday"},
])
def test_odd_dose_posts_give_a_message(owner, owner_client, post):
    set_zone(owner, "UTC")
    med = make_medication(owner, since=timezone.now() - timedelta(days=3), reminder_times=["08:00"])
    response = owner_client.post(f"/health/medications/{med.pk}/doses/", post, follow=True)
    assert response.status_code == 200
    assert messages_of(response)
    with tenant(owner.id):
        assert not MedicationLog.objects.exists()


def test_a_dose_not_due_yet_cannot_be_confirmed(owner, owner_client):
    set_zone(owner, "UTC")
    now = timezone.now().replace(second=0, microsecond=0)
    scheduled = now + timedelta(hours=5)
    med = make_medication(owner, since=now - timedelta(days=1), reminder_times=[scheduled.strftime("%H:%M")])
    response = owner_client.post(f"/health/medications/{med.pk}/doses/", {"scheduled": scheduled.isoformat(), "action": "take"}, follow=True)
    assert any("not due yet" in m for m in messages_of(response))


def test_appointment_bad_input(owner, owner_client):
    for data, message in (({"type": "CHECKUP", "scheduled_date": "", "duration": "30", "status": "SCHEDULED"}, "This field is required"),
                          ({"type": "CHECKUP", "scheduled_date": "2026-13-45T10:00", "duration": "30", "status": "SCHEDULED"}, "Enter a valid date"),
                          ({"type": "CHECKUP", "scheduled_date": "2026-12-01T10:00", "duration": "0", "status": "SCHEDULED"}, "between 1 minute and 24 hours")):
        response = owner_client.post("/health/appointments/new/", data)
        assert response.status_code == 400 and message in response.content.decode()


def test_contact_needs_a_way_to_reach_them(owner, owner_client):
    response = owner_client.post("/health/profile/contacts/", {"contact-name": "Ana"})
    assert response.status_code == 400
    assert "Give a phone number or an email address" in response.content.decode()
    with tenant(owner.id):
        profile = HealthProfile.objects.filter(user=owner).first()
        assert profile is None or not profile.emergency_contacts
