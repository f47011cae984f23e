"""Measurement values: one JSON shape per type, plausible ranges, display in the owner's units.

Stored canonically in ``health_measurements.value``:

- WEIGHT ``{"kg": 70.5}``; BLOOD_PRESSURE ``{"systolic": 120, "diastolic": 80}`` (mm[Hg]);
- GLUCOSE ``{"mg_dl": 99.0, "unit": "mmol/L", "context": "fasting"}`` (``unit``: as entered, and
  the unit the FHIR export reports); HEART_RATE ``{"bpm": 64}``; TEMPERATURE ``{"celsius": 36.8}``;
- OXYGEN ``{"percent": 98}``; OTHER ``{"label": "…", "amount": 1.0, "unit": "…"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import units
from .errors import HealthInputError

TYPES = ("WEIGHT", "BLOOD_PRESSURE", "GLUCOSE", "HEART_RATE", "TEMPERATURE", "OXYGEN", "OTHER")
GLUCOSE_CONTEXTS = [
    ("fasting", gettext_lazy("Fasting")),
    ("before_meal", gettext_lazy("Before a meal")),
    ("after_meal", gettext_lazy("After a meal")),
    ("bedtime", gettext_lazy("At bedtime")),
    ("random", gettext_lazy("Other time")),
]
GLUCOSE_UNITS = ("mg/dL", "mmol/L")

# Accepted (plausible) ranges, canonical units; outside them an entry is refused as a typo.
RANGES = {
    "kg": (Decimal("0.5"), Decimal("650")),
    "systolic": (Decimal("50"), Decimal("300")),
    "diastolic": (Decimal("20"), Decimal("200")),
    "mg_dl": (Decimal("10"), Decimal("1500")),
    "bpm": (Decimal("20"), Decimal("300")),
    "celsius": (Decimal("25"), Decimal("45")),
    "percent": (Decimal("50"), Decimal("100")),
}
# Reference (normal) ranges shaded on the charts, canonical units.
REFERENCE = {
    "BLOOD_PRESSURE": {"systolic": (90, 120), "diastolic": (60, 80)},
    "GLUCOSE": {"fasting": (70, 100), "after_meal": (70, 140), "default": (70, 140)},
    "HEART_RATE": (60, 100),
    "TEMPERATURE": (36.1, 37.2),
    "OXYGEN": (95, 100),
}


def number(raw, label: str) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise HealthInputError(_("Enter the %(what)s.") % {"what": label})
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise HealthInputError(_("The %(what)s must be a number.") % {"what": label}) from None
    if not value.is_finite():
        raise HealthInputError(_("The %(what)s must be a number.") % {"what": label})
    return value


def _in_range(value: Decimal, key: str, label: str, unit: str = "") -> None:
    low, high = RANGES[key]
    if value <= 0:
        raise HealthInputError(_("The %(what)s must be more than zero.") % {"what": label})
    if not low <= value <= high:
        raise HealthInputError(
            _("A %(what)s of %(value)s is not plausible; check it (accepted: %(low)s to %(high)s %(unit)s).")
            % {"what": label, "value": _fmt(value), "low": _fmt(low), "high": _fmt(high), "unit": unit}
        )


def _fmt(value) -> str:
    text = f"{Decimal(value).quantize(Decimal('0.1')).normalize():f}"
    return text


def clean_value(kind: str, data: dict, profile_units: dict) -> dict:
    """The canonical JSON for a measurement entered as ``data`` (form fields), or HealthInputError."""
    if kind == "WEIGHT":
        unit = profile_units.get("weight", "kg")
        entered = number(data.get("amount"), _("weight"))
        kg = units.weight_from(entered, unit)
        low, high = RANGES["kg"]
        if kg <= 0:
            raise HealthInputError(_("The weight must be more than zero."))
        if not low <= kg <= high:
            shown_low, shown_high = units.weight_in(low, unit), units.weight_in(high, unit)
            raise HealthInputError(
                _("A weight of %(value)s %(unit)s is not plausible; check it (accepted: %(low)s to %(high)s %(unit)s).")
                % {"value": _fmt(entered), "unit": unit, "low": _fmt(shown_low), "high": _fmt(shown_high)})
        return {"kg": units.rounded(kg, 2)}
    if kind == "BLOOD_PRESSURE":
        systolic = number(data.get("systolic"), _("systolic pressure"))
        diastolic = number(data.get("diastolic"), _("diastolic pressure"))
        _in_range(systolic, "systolic", _("systolic pressure"), unit="mmHg")
        _in_range(diastolic, "diastolic", _("diastolic pressure"), unit="mmHg")
        if systolic <= diastolic:
            raise HealthInputError(_("The systolic pressure (the higher number) must be above the diastolic."))
        return {"systolic": int(systolic.to_integral_value()), "diastolic": int(diastolic.to_integral_value())}
    if kind == "GLUCOSE":
        unit = (data.get("unit") or "").strip()
        if not unit:
            raise HealthInputError(_("Choose the glucose unit (mg/dL or mmol/L)."))
        if unit not in GLUCOSE_UNITS:
            raise HealthInputError(_("Unknown glucose unit; use mg/dL or mmol/L."))
        entered = number(data.get("amount"), _("glucose"))
        mg = units.glucose_from(entered, unit)
        low, high = RANGES["mg_dl"]
        if mg <= 0:
            raise HealthInputError(_("The glucose must be more than zero."))
        if not low <= mg <= high:
            raise HealthInputError(
                _("A glucose of %(value)s %(unit)s is not plausible; check it (accepted: %(low)s to %(high)s %(unit)s).")
                % {"value": _fmt(entered), "unit": unit, "low": _fmt(units.glucose_in(low, unit)), "high": _fmt(units.glucose_in(high, unit))})
        context = (data.get("context") or "random").strip()
        if context not in dict(GLUCOSE_CONTEXTS):
            raise HealthInputError(_("Choose when the glucose was measured."))
        return {"mg_dl": units.rounded(mg, 1), "unit": unit, "context": context}
    if kind == "HEART_RATE":
        bpm = number(data.get("amount"), _("heart rate"))
        _in_range(bpm, "bpm", _("heart rate"), unit="bpm")
        return {"bpm": int(bpm.to_integral_value())}
    if kind == "TEMPERATURE":
        unit = profile_units.get("temperature", "C")
        entered = number(data.get("amount"), _("temperature"))
        celsius = units.temperature_from(entered, unit)
        low, high = RANGES["celsius"]
        if not low <= celsius <= high:
            raise HealthInputError(
                _("A temperature of %(value)s °%(unit)s is not plausible; check it (accepted: %(low)s to %(high)s °%(unit)s).")
                % {"value": _fmt(entered), "unit": unit, "low": _fmt(units.temperature_in(low, unit)), "high": _fmt(units.temperature_in(high, unit))})
        return {"celsius": units.rounded(celsius, 2)}
    if kind == "OXYGEN":
        percent = number(data.get("amount"), _("oxygen saturation"))
        _in_range(percent, "percent", _("oxygen saturation"), unit="%")
        return {"percent": int(percent.to_integral_value())}
    if kind == "OTHER":
        label = (data.get("label") or "").strip()[:80]
        if not label:
            raise HealthInputError(_("Name what you measured."))
        amount = number(data.get("amount"), _("value"))
        return {"label": label, "amount": float(amount), "unit": (data.get("unit") or "").strip()[:20]}
    raise HealthInputError(_("Unknown kind of measurement."))


@dataclass(frozen=True)
class Shown:
    text: str  # "120/80 mmHg"
    number: float | None  # the charted figure, in the owner's units (systolic for blood pressure)
    second: float | None = None  # diastolic


def show(kind: str, value: dict, profile_units: dict) -> Shown:
    """The value in the owner's units, as text and as chart numbers. Tolerates odd stored shapes."""
    value = value if isinstance(value, dict) else {}
    try:
        if kind == "WEIGHT":
            unit = profile_units.get("weight", "kg")
            amount = units.weight_in(value["kg"], unit)
            return Shown(f"{_fmt(amount)} {unit}", float(amount))
        if kind == "BLOOD_PRESSURE":
            return Shown(f"{value['systolic']}/{value['diastolic']} mmHg", float(value["systolic"]), float(value["diastolic"]))
        if kind == "GLUCOSE":
            unit = profile_units.get("glucose", "mg/dL")
            amount = units.glucose_in(value["mg_dl"], unit)
            context = dict(GLUCOSE_CONTEXTS).get(value.get("context"), "")
            return Shown(f"{_fmt(amount)} {unit}" + (f" · {context}" if context else ""), float(amount))
        if kind == "HEART_RATE":
            return Shown(f"{value['bpm']} bpm", float(value["bpm"]))
        if kind == "TEMPERATURE":
            unit = profile_units.get("temperature", "C")
            amount = units.temperature_in(value["celsius"], unit)
            return Shown(f"{_fmt(amount)} °{unit}", float(amount))
        if kind == "OXYGEN":
            return Shown(f"{value['percent']} %", float(value["percent"]))
        if kind == "OTHER":
            return Shown(f"{value.get('label', '')}: {value.get('amount', '')} {value.get('unit', '')}".strip(), float(value["amount"]))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        pass
    return Shown(str(value)[:80], None)


def reference_band(kind: str, profile_units: dict) -> list[float] | None:
    """[low, high] of the normal range in the owner's units, for shading the chart."""
    ref = REFERENCE.get(kind)
    if ref is None:
        return None
    if kind == "BLOOD_PRESSURE":
        return [float(ref["systolic"][0]), float(ref["systolic"][1])]
    if kind == "GLUCOSE":
        unit = profile_units.get("glucose", "mg/dL")
        low, high = ref["fasting"]
        return [float(units.glucose_in(low, unit)), float(units.glucose_in(high, unit))]
    if kind == "TEMPERATURE":
        unit = profile_units.get("temperature", "C")
        return [float(units.temperature_in(ref[0], unit)), float(units.temperature_in(ref[1], unit))]
    return [float(ref[0]), float(ref[1])]
