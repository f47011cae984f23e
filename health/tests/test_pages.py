"""The health pages as the owner uses them: overview actions, lists, files, the account's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import UserSettings
from core.tenancy import tenant
from health import services
from health.models import Allergy, HealthMeasurement, MedicalAppointment, MedicalCondition, MedicationLog
from health.tests.conftest import make_medication, midday_zone, set_zone
from testutils.testing import messages_of

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


def test_overview_shows_todays_doses_and_confirms_in_one_click(owner, owner_client):
    now = timezone.now().replace(second=0, microsecond=0)
    zone = midday_zone(now)  # the dose 30 minutes ago is today in the owner's zone, at any hour
    set_zone(owner, zone)
    local = now.astimezone(ZoneInfo(zone))
    earlier = (local - timedelta(minutes=30)).strftime("%H:%M")
    med = make_medication(owner, since=now - timedelta(days=1), name="Levothyroxine", dosage="50 mcg", reminder_times=[earlier])
    page = owner_client.get("/health/").content.decode()
    assert "Levothyroxine" in page and "To take" in page and "Took it" in page
    scheduled = datetime.combine(local.date(), datetime.strptime(earlier, "%H:%M").time(), ZoneInfo(zone))
    response = owner_client.post(f"/health/medications/{med.pk}/doses/", {"scheduled": scheduled.isoformat(), "action": "take", "next": "/health/"})
    assert response.status_code == 302 and response["Location"] == "/health/"
    page = owner_client.get("/health/").content.decode()
    assert "Taken" in page and "Undo" in page and "100.0 %" in page
    owner_client.post(f"/health/medications/{med.pk}/doses/", {"scheduled": scheduled.isoformat(), "action": "undo", "next": "/health/"})
    with tenant(owner.id):
        assert not MedicationLog.objects.exists()


def test_the_next_parameter_never_leaves_the_health_pages(owner, owner_client):
    med = make_medication(owner, since=timezone.now(), frequency="as_needed", reminder_times=[])
    for target in ("https://evil.example/", "//evil.example/health/", "/health/\\evil", "/admin/"):
        response = owner_client.post(f"/health/medications/{med.pk}/took-now/", {"next": target})
        assert response["Location"] == "/health/"


def test_serious_allergies_are_highlighted_on_the_overview(owner, owner_client):
    with tenant(owner.id):
        profile = services.profile_ensure(owner)
        Allergy.objects.create(health_profile=profile, user=owner, allergen="Peanuts", severity="CRITICAL", reaction="anaphylaxis")
        Allergy.objects.create(health_profile=profile, user=owner, allergen="Dust", severity="MILD")
    page = owner_client.get("/health/").content.decode()
    banner = page.split('class="card allergy-alert"')[1].split("</section>")[0]
    assert "Peanuts" in banner and "Life-threatening" in banner and "Dust" not in banner


def test_as_needed_dose_and_refill_warning(owner, owner_client):
    med = make_medication(owner, since=timezone.now(), name="Salbutamol", frequency="as_needed", reminder_times=[], stock_count=3)
    response = owner_client.post(f"/health/medications/{med.pk}/took-now/", {"next": f"/health/medications/{med.pk}/"}, follow=True)
    assert "Dose recorded as taken." in messages_of(response)
    page = owner_client.get("/health/").content.decode()
    assert "Salbutamol: 2 left" in page


def test_medication_form_round_trip(owner, owner_client):
    data = {"name": "Atorvastatin", "dosage": "20 mg", "frequency": "weekdays", "times": "21:00, 09:00", "weekdays": ["0", "4"],
            "start_date": "2026-01-01", "is_active": "on", "reminder_enabled": "on"}
    response = owner_client.post("/health/medications/new/", data)
    assert response.status_code == 302
    with tenant(owner.id):
        med = owner.health_profile.medications.get()
    assert (med.reminder_times, med.weekdays, med.frequency) == (["09:00", "21:00"], [0, 4], "weekdays")
    page = owner_client.get(f"/health/medications/{med.pk}/edit/").content.decode()
    assert 'value="09:00, 21:00"' in page
    # Stopping it ends the schedule today.
    data.pop("is_active")
    assert owner_client.post(f"/health/medications/{med.pk}/edit/", data).status_code == 302
    with tenant(owner.id):
        med.refresh_from_db()
    assert not med.is_active and med.end_date == timezone.localdate()


def test_appointment_lists_and_ics(owner, owner_client):
    response = owner_client.post("/health/appointments/new/", {
        "type": "SPECIALIST", "specialty": "Cardiology, heart; care", "scheduled_date": "2030-03-04T09:30", "duration": "40",
        "status": "SCHEDULED", "reason": "Check-up\nbring results"})
    assert response.status_code == 302
    with tenant(owner.id):
        appointment = MedicalAppointment.objects.get()
        MedicalAppointment.objects.create(health_profile=appointment.health_profile, user=owner, scheduled_date=datetime(2020, 1, 1, tzinfo=UTC))
    page = owner_client.get("/health/appointments/").content.decode()
    upcoming, past = page.split('id="past-heading"')
    assert "Cardiology" in upcoming and "Cardiology" not in past
    ics = owner_client.get(f"/health/appointments/{appointment.pk}/calendar.ics")
    assert ics["Content-Type"].startswith("text/calendar") and "no-store" in ics["Cache-Control"]
    body = ics.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20300304T093000Z" in body and "DTEND:20300304T101000Z" in body
    assert "Cardiology\\, heart\\; care" in body and "Check-up\\nbring results" in body
    assert "TRIGGER:-P1D" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_appointment_time_is_read_in_my_time_zone(owner, owner_client):
    set_zone(owner, "America/Mexico_City")  # UTC-6
    owner_client.post("/health/appointments/new/", {"type": "CHECKUP", "scheduled_date": "2030-03-04T09:30", "duration": "30",
                                                    "status": "SCHEDULED"})
    with tenant(owner.id):
        assert MedicalAppointment.objects.get().scheduled_date == datetime(2030, 3, 4, 15, 30, tzinfo=UTC)


def test_measurements_csv_and_charts(owner, owner_client):
    with tenant(owner.id):
        profile = services.profile_update(owner, weight_unit="lb")
        HealthMeasurement.objects.create(health_profile=profile, user=owner, type="WEIGHT", value={"kg": 70})
        HealthMeasurement.objects.create(health_profile=profile, user=owner, type="OTHER", value={"label": "=HYPERLINK(1)", "amount": 1, "unit": ""})
    page = owner_client.get("/health/measurements/").content.decode()
    assert 'id="measurement-charts"' in page and "154.3 lb" in page
    csv_response = owner_client.get("/health/measurements/export.csv")
    assert csv_response["Content-Type"].startswith("text/csv") and "no-store" in csv_response["Cache-Control"]
    text = csv_response.content.decode()
    assert "154.3 lb" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text  # formulas are neutralised


def test_summary_page_is_printable(owner, owner_client):
    with tenant(owner.id):
        profile = services.profile_update(owner, blood_type="O+", emergency_contacts=[{"name": "Ana", "phone": "1"}])
        MedicalCondition.objects.create(health_profile=profile, user=owner, name="Asthma")
    page = owner_client.get("/health/summary/").content.decode()
    assert "Asthma" in page and "O+" in page and "Ana" in page and "data-print" in page


def test_user_text_is_escaped(owner, owner_client):
    with tenant(owner.id):
        profile = services.profile_ensure(owner)
        MedicalCondition.objects.create(health_profile=profile, user=owner, name="<script>alert(1)</script>")
    for path in ("/health/conditions/", "/health/summary/"):
        page = owner_client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def _fill(user, n):
    with tenant(user.id):
        profile = services.profile_ensure(user)
        for i in range(n):
            MedicalCondition.objects.create(health_profile=profile, user=user, name=f"C{i}")
            Allergy.objects.create(health_profile=profile, user=user, allergen=f"A{i}", severity="SEVERE")
            MedicalAppointment.objects.create(health_profile=profile, user=user, scheduled_date=timezone.now() + timedelta(days=i - n // 2))
            HealthMeasurement.objects.create(health_profile=profile, user=user, type="HEART_RATE", value={"bpm": 60 + i})
    for i in range(n):
        make_medication(user, since=timezone.now() - timedelta(days=40), name=f"M{i}", reminder_times=["08:00", "20:00"], stock_count=1,
                        start_date=date(2020, 1, 1))


@pytest.mark.parametrize("path", ["/health/", "/health/conditions/", "/health/allergies/", "/health/medications/",
                                  "/health/appointments/", "/health/measurements/", "/health/summary/", "/health/adherence.json?days=90",
                                  "/health/export/fhir.json", "/health/measurements/export.csv"])
def test_pages_make_the_same_number_of_queries_for_little_and_much_data(owner, owner_client, path):
    _fill(owner, 2)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(path).status_code == 200
    _fill(owner, 25)
    with CaptureQueriesContext(connection) as large:
        assert owner_client.get(path).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_account_settings_offer_the_time_zone(owner, owner_client):
    page = owner_client.get("/account/settings/").content.decode()
    assert "Time zone" in page and "data-browser-time-zone" in page and "health-timezone.js" in page
    data = {"default_model": "offline", "temperature": "0.70", "max_tokens": "1024", "language": "", "timezone": "Europe/Madrid"}
    assert owner_client.post("/account/settings/", data).status_code == 302
    with tenant(owner.id):
        assert UserSettings.objects.get(user=owner).timezone == "Europe/Madrid"
    response = owner_client.post("/account/settings/", {**data, "timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
