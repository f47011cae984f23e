"""The health record as a FHIR R4 Bundle (type ``collection``), built as plain dicts.

Observations carry LOINC codes and UCUM units; resources refer to each other by ``urn:uuid``
full URLs. The tests validate the output with the ``fhir.resources`` models.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils import timezone

from . import schedule
from .models import Frequency

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"

SEVERITY_SNOMED = {"MILD": ("255604002", "Mild"), "MODERATE": ("6736007", "Moderate"), "SEVERE": ("24484000", "Severe"),
                   "CRITICAL": ("24484000", "Severe")}
GENDER = {"FEMALE": "female", "MALE": "male", "INTERSEX": "other", "UNDISCLOSED": "unknown"}
ALLERGY_CATEGORY = {"FOOD": "food", "DRUG": "medication", "ENVIRONMENTAL": "environment"}
APPOINTMENT_STATUS = {"SCHEDULED": "booked", "COMPLETED": "fulfilled", "CANCELLED": "cancelled", "MISSED": "noshow"}

# type → (LOINC code, display, UCUM code, unit shown)
OBSERVATIONS = {
    "WEIGHT": ("29463-7", "Body weight", "kg", "kg"),
    "HEART_RATE": ("8867-4", "Heart rate", "/min", "beats/minute"),
    "TEMPERATURE": ("8310-5", "Body temperature", "Cel", "°C"),
    "OXYGEN": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
}
GLUCOSE = {"mg/dL": ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL"),
           "mmol/L": ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L")}


def _iso(value: datetime) -> str:
    return value.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


def _urn(obj) -> str:
    return f"urn:uuid:{obj.pk}"


def _loinc(code: str, display: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _quantity(value, code: str, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _vital(category: str = "vital-signs") -> list:
    display = "Vital Signs" if category == "vital-signs" else "Laboratory"
    return [{"coding": [{"system": OBS_CATEGORY, "code": category, "display": display}]}]


def patient(user, profile) -> dict:
    resource = {"resourceType": "Patient", "id": str(user.pk), "active": True}
    if user.name:
        resource["name"] = [{"text": user.name}]
    resource["telecom"] = [{"system": "email", "value": user.email}]
    if profile is not None:
        if profile.sex:
            resource["gender"] = GENDER[profile.sex]
        if profile.birth_date:
            resource["birthDate"] = profile.birth_date
        contacts = []
        for entry in profile.emergency_contacts or []:
            contact = {"name": {"text": entry.get("name") or "—"}}
            telecom = [{"system": "phone", "value": entry["phone"]}] if entry.get("phone") else []
            telecom += [{"system": "email", "value": entry["email"]}] if entry.get("email") else []
            if telecom:
                contact["telecom"] = telecom
            if entry.get("relationship"):
                contact["relationship"] = [{"text": entry["relationship"]}]
            contacts.append(contact)
        if contacts:
            resource["contact"] = contacts
    return resource


def _observation(obj_id, patient_urn: str, when: datetime, code: dict, category: str = "vital-signs", **value) -> dict:
    return {"resourceType": "Observation", "id": str(obj_id), "status": "final", "category": _vital(category),
            "code": code, "subject": {"reference": patient_urn}, "effectiveDateTime": _iso(when), **value}


def measurement(m, patient_urn: str) -> dict | None:
    value = m.value if isinstance(m.value, dict) else {}
    try:
        if m.type == "BLOOD_PRESSURE":
            return _observation(m.pk, patient_urn, m.measured_at, _loinc("85354-9", "Blood pressure panel with all children optional"),
                                component=[
                                    {"code": _loinc("8480-6", "Systolic blood pressure"), "valueQuantity": _quantity(int(value["systolic"]), "mm[Hg]", "mmHg")},
                                    {"code": _loinc("8462-4", "Diastolic blood pressure"), "valueQuantity": _quantity(int(value["diastolic"]), "mm[Hg]", "mmHg")},
                                ])
        if m.type == "GLUCOSE":
            unit = value.get("unit") if value.get("unit") in GLUCOSE else "mg/dL"
            code, display, ucum = GLUCOSE[unit]
            amount = float(value["mg_dl"]) if unit == "mg/dL" else round(float(value["mg_dl"]) / 18.016, 1)
            resource = _observation(m.pk, patient_urn, m.measured_at, _loinc(code, display), "laboratory",
                                    valueQuantity=_quantity(amount, ucum, ucum))
            if value.get("context"):
                resource["note"] = [{"text": f"context: {value['context']}"}]
            return resource
        if m.type in OBSERVATIONS:
            code, display, ucum, unit = OBSERVATIONS[m.type]
            key = {"WEIGHT": "kg", "HEART_RATE": "bpm", "TEMPERATURE": "celsius", "OXYGEN": "percent"}[m.type]
            return _observation(m.pk, patient_urn, m.measured_at, _loinc(code, display), valueQuantity=_quantity(float(value[key]), ucum, unit))
        if m.type == "OTHER":
            quantity = {"value": float(value["amount"])}
            if value.get("unit"):
                quantity["unit"] = value["unit"]
            return _observation(m.pk, patient_urn, m.measured_at, {"text": value.get("label") or "measurement"}, "exam",
                                valueQuantity=quantity)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _profile_observations(profile, patient_urn: str) -> list[dict]:
    out = []
    when = profile.created_at or timezone.now()

    def ident(part: str) -> str:  # stable per profile and figure, a UUID so that it has a urn:uuid
        return str(uuid.uuid5(profile.pk, part))

    if profile.weight is not None:
        out.append(_observation(ident("weight"), patient_urn, when, _loinc("29463-7", "Body weight"),
                                valueQuantity=_quantity(float(profile.weight), "kg", "kg")))
    if profile.height is not None:
        out.append(_observation(ident("height"), patient_urn, when, _loinc("8302-2", "Body height"),
                                valueQuantity=_quantity(float(profile.height), "cm", "cm")))
    if profile.blood_type:
        out.append(_observation(ident("blood-type"), patient_urn, when, _loinc("882-1", "ABO and Rh group [Type] in Blood"),
                                "laboratory", valueCodeableConcept={"text": profile.blood_type}))
    return out


def condition(c, patient_urn: str) -> dict:
    clinical = "resolved" if c.status == "RESOLVED" else "active"
    resource = {
        "resourceType": "Condition", "id": str(c.pk),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "code": {"text": c.name}, "subject": {"reference": patient_urn},
    }
    if c.severity:
        code, display = SEVERITY_SNOMED[c.severity]
        resource["severity"] = {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": c.get_severity_display()}
    if c.diagnosed_date:
        resource["onsetDateTime"] = c.diagnosed_date.isoformat()
    notes = (c.treatment or {}).get("notes") if isinstance(c.treatment, dict) else None
    if notes:
        resource["note"] = [{"text": notes}]
    return resource


def allergy(a, patient_urn: str) -> dict:
    clinical = {"RESOLVED": "resolved"}.get(a.status, "active")
    resource = {
        "resourceType": "AllergyIntolerance", "id": str(a.pk),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": clinical}]},
        "code": {"text": a.allergen}, "patient": {"reference": patient_urn},
    }
    if a.type in ALLERGY_CATEGORY:
        resource["category"] = [ALLERGY_CATEGORY[a.type]]
    if a.severity:
        resource["criticality"] = "high" if a.severity in ("SEVERE", "CRITICAL") else "low"
    if a.diagnosed_date:
        resource["onsetDateTime"] = a.diagnosed_date.isoformat()
    if a.reaction:
        reaction = {"manifestation": [{"text": a.reaction}]}
        if a.severity:
            reaction["severity"] = {"MILD": "mild", "MODERATE": "moderate"}.get(a.severity, "severe")
        resource["reaction"] = [reaction]
    return resource


def medication_statement(m, patient_urn: str) -> dict:
    today = timezone.localdate()
    if m.is_active and not (m.end_date and m.end_date < today):
        status = "active"
    else:
        status = "completed"
    dosage: dict = {"text": f"{m.dosage} — {m.get_frequency_display()}" if m.frequency in Frequency.values else f"{m.dosage} — {m.frequency}"}
    if m.frequency == Frequency.AS_NEEDED:
        dosage["asNeededBoolean"] = True
    elif schedule.is_scheduled(m):
        repeat: dict = {"timeOfDay": [t.strftime("%H:%M:00") for t in schedule.day_times(m)]}
        if m.frequency == Frequency.WEEKDAYS:
            names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            repeat["dayOfWeek"] = [names[int(d)] for d in sorted(m.weekdays or []) if str(d).isdigit() and 0 <= int(d) < 7]
        dosage["timing"] = {"repeat": repeat}
    resource = {
        "resourceType": "MedicationStatement", "id": str(m.pk), "status": status,
        "medicationCodeableConcept": {"text": m.name + (f" ({m.generic_name})" if m.generic_name else "")},
        "subject": {"reference": patient_urn}, "dosage": [dosage],
    }
    period = {}
    if m.start_date:
        period["start"] = m.start_date.isoformat()
    if m.end_date:
        period["end"] = m.end_date.isoformat()
    if period:
        resource["effectivePeriod"] = period
    return resource


def appointment(a, patient_urn: str) -> dict:
    resource = {
        "resourceType": "Appointment", "id": str(a.pk), "status": APPOINTMENT_STATUS.get(a.status, "booked"),
        "serviceType": [{"text": a.get_type_display()}],
        "start": _iso(a.scheduled_date), "end": _iso(a.scheduled_date + timedelta(minutes=a.duration)),
        "minutesDuration": a.duration,
        "participant": [{"actor": {"reference": patient_urn}, "status": "accepted"}],
    }
    if a.specialty:
        resource["specialty"] = [{"text": a.specialty}]
    if a.reason:
        resource["description"] = a.reason[:1000]
    if a.results:
        resource["comment"] = a.results
    return resource


def bundle(user, record: dict) -> dict:
    """A Bundle of type ``collection``; an empty record gives a valid bundle with the Patient only."""
    profile = record["profile"]
    pat = patient(user, profile)
    patient_urn = f"urn:uuid:{user.pk}"
    resources = [pat]
    if profile is not None:
        resources += _profile_observations(profile, patient_urn)
    resources += [condition(c, patient_urn) for c in record["conditions"]]
    resources += [allergy(a, patient_urn) for a in record["allergies"]]
    resources += [medication_statement(m, patient_urn) for m in record["medications"]]
    resources += [r for r in (measurement(m, patient_urn) for m in record["measurements"]) if r]
    resources += [appointment(a, patient_urn) for a in record["appointments"]]
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": _iso(timezone.now()), "entry": entries}
