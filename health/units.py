"""Unit conversions. Stored canonically (kg, cm, °C, glucose in mg/dL); shown in the owner's units.

1 lb = 0.45359237 kg (exact, by definition); 1 in = 2.54 cm (exact); glucose mg/dL = mmol/L × 18.016.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

LB_IN_KG = Decimal("0.45359237")
INCH_IN_CM = Decimal("2.54")
GLUCOSE_FACTOR = Decimal("18.016")


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def lb_to_kg(lb) -> Decimal:
    return to_decimal(lb) * LB_IN_KG


def kg_to_lb(kg) -> Decimal:
    return to_decimal(kg) / LB_IN_KG


def ft_in_to_cm(feet, inches) -> Decimal:
    return (to_decimal(feet) * 12 + to_decimal(inches)) * INCH_IN_CM


def cm_to_ft_in(cm) -> tuple[int, Decimal]:
    total = to_decimal(cm) / INCH_IN_CM
    feet = int(total // 12)
    inches = _q(total - feet * 12, 1)
    if inches >= 12:
        feet, inches = feet + 1, inches - 12
    return feet, inches


def f_to_c(f) -> Decimal:
    return (to_decimal(f) - 32) * 5 / 9


def c_to_f(c) -> Decimal:
    return to_decimal(c) * 9 / 5 + 32


def mmol_to_mg(mmol) -> Decimal:
    return to_decimal(mmol) * GLUCOSE_FACTOR


def mg_to_mmol(mg) -> Decimal:
    return to_decimal(mg) / GLUCOSE_FACTOR


def weight_in(kg, unit: str) -> Decimal:
    return _q(kg_to_lb(kg) if unit == "lb" else to_decimal(kg), 1)


def weight_from(value, unit: str) -> Decimal:
    return lb_to_kg(value) if unit == "lb" else to_decimal(value)


def temperature_in(celsius, unit: str) -> Decimal:
    return _q(c_to_f(celsius) if unit == "F" else to_decimal(celsius), 1)


def temperature_from(value, unit: str) -> Decimal:
    return f_to_c(value) if unit == "F" else to_decimal(value)


def glucose_in(mg_dl, unit: str) -> Decimal:
    return _q(mg_to_mmol(mg_dl), 1) if unit == "mmol/L" else _q(to_decimal(mg_dl), 0)


def glucose_from(value, unit: str) -> Decimal:
    return mmol_to_mg(value) if unit == "mmol/L" else to_decimal(value)


def height_text(cm, unit: str) -> str:
    if cm is None:
        return ""
    if unit == "ft_in":
        feet, inches = cm_to_ft_in(cm)
        return f"{feet} ft {inches.normalize():f} in"
    return f"{_q(to_decimal(cm), 1).normalize():f} cm"


def rounded(value: Decimal, places: int = 1) -> float:
    return float(_q(value, places))
