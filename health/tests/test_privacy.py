"""Owner-only: ciphertext at rest, no staff or bypass access, 404 for others, no-store, deletion."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from accounts.models import User
from core.crypto import encrypted_fields
from core.tenancy import bypass, tenant
from health import services
from health.models import (
    Allergy,
    HealthMeasurement,
    HealthProfile,
    MedicalAppointment,
    MedicalCondition,
    Medication,
    MedicationLog,
    ReminderOutbox,
)
from testutils import factories

pytestmark = pytest.mark.django_db
HEALTH_MODELS = [HealthProfile, MedicalCondition, Medication, MedicationLog, Allergy, MedicalAppointment, HealthMeasurement,
                 ReminderOutbox]


def _full_record(user):
    with tenant(user.id):
        profile = services.profile_update(
            user, blood_type="A+", birth_date="1980-02-03", encrypted_data="takes insulin at night",
            emergency_contacts=[{"name": "Ana Contact", "phone": "+34 600 000 000"}],
            insurance_info=[{"provider": "Sanitas", "member_id": "MEMBER-42"}])
        factories.medical_condition(user)
        med = factories.medication(user)
        factories.medication_log(user, med=med)
        factories.allergy(user)
        factories.medical_appointment(user)
        factories.health_measurement(user)
        # A reminder waiting to be sent (health/reminders.py writes these with the markers).
        ReminderOutbox.objects.create(id=uuid.uuid4(), user=user, kind="medication", count=1, due_at=timezone.now())
    return profile


def test_every_encrypted_column_holds_ciphertext(owner):
    profile = _full_record(owner)
    fields = encrypted_fields(HealthProfile)
    assert {f.column for f in fields} == {"emergency_contacts", "insurance_info", "encrypted_data", "birth_date"}
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(f.column for f in fields)} FROM health_profiles WHERE id = %s", [profile.pk])
        raw = dict(zip([f.column for f in fields], cursor.fetchone()))
    for column, value in raw.items():
        if isinstance(value, str) and value.startswith("{"):
            value = json.loads(value)  # jsonb comes back as text through a raw cursor
        text = value if isinstance(value, str) else json.dumps(value)
        assert "Ana Contact" not in text and "MEMBER-42" not in text and "insulin" not in text and "1980" not in text, column
        if isinstance(value, str):
            assert value.startswith("enc:v1:"), column
        else:
            assert value["enc"] == "v1" and set(value) == {"enc", "kid", "data"}, column
    with tenant(owner.id):
        again = HealthProfile.objects.get(pk=profile.pk)
        assert again.birth_date == "1980-02-03" and again.insurance_info[0]["member_id"] == "MEMBER-42"


@pytest.mark.parametrize("model", HEALTH_MODELS, ids=lambda m: m._meta.db_table)
def test_staff_and_bypass_see_no_health_row(owner, staff, model):
    _full_record(owner)
    with tenant(owner.id):
        assert model.objects.exists()
    with tenant(staff.id):
        assert not model.objects.exists()
    with bypass("test: a staff tool tries health", actor_id=staff.id):
        assert not model.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            assert cursor.fetchone()[0] == 0
    assert not model.objects.exists()  # no context at all


def test_the_admin_has_no_health_pages(staff_client, owner):
    _full_record(owner)
    assert staff_client.get("/admin/health/").status_code == 404
    assert staff_client.get("/admin/health/healthprofile/").status_code == 404
    page = staff_client.get("/admin/").content.decode()
    assert "health" not in page.lower().replace("healthz", "")


def _routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p
            else:
                yield from walk(p.url_patterns, prefix + str(p.pattern))
    return [(r, p) for r, p in walk(get_resolver().url_patterns) if r.startswith("health/")]


def _objects(user):
    with tenant(user.id):
        profile = services.profile_update(user, emergency_contacts=[{"name": "A", "phone": "1"}], insurance_info=[{"provider": "B"}])
        return {
            "condition": factories.medical_condition(user).pk, "allergy": factories.allergy(user).pk,
            "medication": factories.medication(user).pk, "appointment": factories.medical_appointment(user).pk,
            "measurement": factories.health_measurement(user).pk, "profile": profile.pk,
            "outbox": ReminderOutbox.objects.create(id=uuid.uuid4(), user=user, kind="medication", count=1,
                                                    due_at=timezone.now()).pk,
        }


def _fill(route, ids):
    kind = route.split("/")[1]
    key = {"conditions": "condition", "allergies": "allergy", "medications": "medication", "appointments": "appointment",
           "measurements": "measurement"}.get(kind)
    path = "/" + route
    if "<uuid:pk>" in path:
        path = path.replace("<uuid:pk>", str(ids[key]))
    return path.replace("<int:index>", "0")


def test_every_health_url_answers_another_user_with_404(owner, other_client):
    ids = _objects(owner)
    object_routes = [r for r, _ in _routes() if "<" in r]
    assert len(object_routes) >= 14
    for route in object_routes:
        path = _fill(route, ids)
        for method in ("get", "post"):
            response = getattr(other_client, method)(path)
            assert response.status_code in (404, 405), f"{method} {path} → {response.status_code}"
    with tenant(owner.id):  # nothing of the owner's changed
        assert HealthProfile.objects.get(user=owner).emergency_contacts == [{"name": "A", "phone": "1"}]
        assert Medication.objects.filter(pk=ids["medication"]).exists()
        assert ReminderOutbox.objects.filter(pk=ids["outbox"]).exists()


def test_every_health_page_sends_no_store(owner, owner_client):
    ids = _objects(owner)
    for route, _ in _routes():
        path = _fill(route, ids)
        response = owner_client.get(path)
        assert response.status_code in (200, 400, 405), f"GET {path} → {response.status_code}"
        cache = response.get("Cache-Control", "")
        assert "no-store" in cache and "private" in cache, f"{path}: {cache!r}"
    missing = owner_client.get(f"/health/conditions/{uuid.uuid4()}/")
    assert missing.status_code == 404 and "no-store" in missing["Cache-Control"]


def test_health_pages_need_login(client):
    response = client.get("/health/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_account_purge_erases_the_health_record(owner, settings):
    settings.ACCOUNT_DELETION_GRACE_DAYS = 30
    _full_record(owner)
    User.objects.filter(pk=owner.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    from accounts.services import users_purge_deleted

    assert users_purge_deleted() == [str(owner.pk)]
    with tenant(owner.id):
        for model in HEALTH_MODELS:
            assert not model.objects.exists(), model._meta.db_table
