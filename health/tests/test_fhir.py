"""The FHIR export parses with the fhir.resources models and carries the right codes and units."""

from __future__ import annotations

from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest
from fhir.resources.R4B.bundle import Bundle

from core.tenancy import tenant
from health import services
from health.models import Allergy, HealthMeasurement, MedicalAppointment, MedicalCondition
from health.tests.conftest import make_medication

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


def _parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    bundle = Bundle.model_validate(data)  # raises on anything FHIR does not allow
    assert bundle.type == "collection"
    return data, bundle


def _by_type(data):
    found = {}
    for entry in data["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def test_an_empty_record_is_a_valid_bundle(owner_client, owner):
    data, bundle = _parse(owner_client.get("/health/export/fhir.json"))
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["Patient"]
    assert data["entry"][0]["resource"]["telecom"] == [{"system": "email", "value": owner.email}]


def test_the_whole_record_with_loinc_codes_and_ucum_units(owner, owner_client):
    when = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    with tenant(owner.id):
        profile = services.profile_update(owner, blood_type="AB-", sex="FEMALE", birth_date="1979-11-30", height=168, weight=61.5,
                                          emergency_contacts=[{"name": "Ana", "relationship": "sister", "phone": "+34 600"}])
        MedicalCondition.objects.create(health_profile=profile, user=owner, name="Type 2 diabetes", status="CHRONIC", severity="MODERATE",
                                        diagnosed_date=date(2020, 1, 5), treatment={"notes": "diet and metformin"})
        MedicalCondition.objects.create(health_profile=profile, user=owner, name="Flu", status="RESOLVED")
        Allergy.objects.create(health_profile=profile, user=owner, allergen="Penicillin", type="DRUG", severity="CRITICAL", reaction="anaphylaxis")
        Allergy.objects.create(health_profile=profile, user=owner, allergen="Pollen", type="ENVIRONMENTAL", severity="MILD")
        for kind, value in (("WEIGHT", {"kg": 61.2}), ("BLOOD_PRESSURE", {"systolic": 128, "diastolic": 84}),
                            ("GLUCOSE", {"mg_dl": 99.1, "unit": "mmol/L", "context": "fasting"}),
                            ("GLUCOSE", {"mg_dl": 140.0, "unit": "mg/dL", "context": "after_meal"}),
                            ("HEART_RATE", {"bpm": 64}), ("TEMPERATURE", {"celsius": 36.8}), ("OXYGEN", {"percent": 97}),
                            ("OTHER", {"label": "Peak flow", "amount": 450.0, "unit": "L/min"})):
            HealthMeasurement.objects.create(health_profile=profile, user=owner, type=kind, value=value, measured_at=when)
        MedicalAppointment.objects.create(health_profile=profile, user=owner, type="SPECIALIST", specialty="Endocrinology",
                                          scheduled_date=when, duration=45, status="COMPLETED", reason="HbA1c", results="6.8 %")
    make_medication(owner, since=when, reminder_times=["08:00", "20:00"], start_date=date(2026, 1, 1))
    make_medication(owner, since=when, name="Salbutamol", frequency="as_needed", reminder_times=[])

    data, bundle = _parse(owner_client.get("/health/export/fhir.json"))
    found = _by_type(data)
    assert sorted(found) == ["AllergyIntolerance", "Appointment", "Condition", "MedicationStatement", "Observation", "Patient"]
    patient = found["Patient"][0]
    assert (patient["gender"], patient["birthDate"]) == ("female", "1979-11-30")
    assert patient["contact"][0]["relationship"] == [{"text": "sister"}]
    patient_ref = f"urn:uuid:{patient['id']}"

    observations = {}
    for obs in found["Observation"]:
        assert obs["subject"] == {"reference": patient_ref} and obs["status"] == "final"
        observations.setdefault(obs["code"]["coding"][0]["code"] if "coding" in obs["code"] else obs["code"]["text"], []).append(obs)

    def quantity(code, index=0):
        q = observations[code][index]["valueQuantity"]
        return q["value"], q["system"], q["code"]

    assert sorted(q["valueQuantity"]["value"] for q in observations["29463-7"]) == [61.2, 61.5]  # the measurement and the profile
    assert quantity("29463-7")[1:] == ("http://unitsofmeasure.org", "kg")
    panel = observations["85354-9"][0]
    assert "valueQuantity" not in panel
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in panel["component"]}
    assert components["8480-6"] == {"value": 128, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
    assert components["8462-4"]["value"] == 84 and components["8462-4"]["code"] == "mm[Hg]"
    assert quantity("15074-8") == (5.5, "http://unitsofmeasure.org", "mmol/L")
    assert quantity("2339-0") == (140.0, "http://unitsofmeasure.org", "mg/dL")
    assert quantity("8867-4") == (64.0, "http://unitsofmeasure.org", "/min")
    assert quantity("8310-5") == (36.8, "http://unitsofmeasure.org", "Cel")
    assert quantity("59408-5") == (97.0, "http://unitsofmeasure.org", "%")
    assert observations["8302-2"][0]["valueQuantity"]["code"] == "cm"
    assert observations["882-1"][0]["valueCodeableConcept"] == {"text": "AB-"}
    assert observations["Peak flow"][0]["valueQuantity"] == {"value": 450.0, "unit": "L/min"}
    for obs in found["Observation"]:
        assert all(c["system"] == "http://loinc.org" for c in obs["code"].get("coding", []))

    conditions = {c["code"]["text"]: c for c in found["Condition"]}
    assert conditions["Type 2 diabetes"]["clinicalStatus"]["coding"][0]["code"] == "active"
    assert conditions["Flu"]["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert conditions["Type 2 diabetes"]["onsetDateTime"] == "2020-01-05"
    allergies = {a["code"]["text"]: a for a in found["AllergyIntolerance"]}
    assert allergies["Penicillin"]["criticality"] == "high" and allergies["Penicillin"]["category"] == ["medication"]
    assert allergies["Penicillin"]["reaction"][0]["severity"] == "severe"
    assert allergies["Pollen"]["criticality"] == "low"
    statements = {m["medicationCodeableConcept"]["text"]: m for m in found["MedicationStatement"]}
    assert statements["Metformin"]["dosage"][0]["timing"]["repeat"]["timeOfDay"] == ["08:00:00", "20:00:00"]
    assert statements["Metformin"]["effectivePeriod"] == {"start": "2026-01-01"}
    assert statements["Salbutamol"]["dosage"][0]["asNeededBoolean"] is True
    appointment = found["Appointment"][0]
    assert (appointment["status"], appointment["minutesDuration"]) == ("fulfilled", 45)
    assert appointment["start"] == "2026-05-01T08:00:00Z" and appointment["end"] == "2026-05-01T08:45:00Z"
    assert appointment["participant"][0]["actor"] == {"reference": patient_ref}


def test_the_export_is_only_mine(owner, other_client):
    with tenant(owner.id):
        services.profile_update(owner, blood_type="A+")
    data, _ = _parse(other_client.get("/health/export/fhir.json"))
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["Patient"]
