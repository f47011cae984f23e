"""Unit conversions round-trip and use the exact factors."""

from decimal import Decimal

import pytest

from health import units

MICRO = Decimal("0.000001")


@pytest.mark.parametrize("kg", ["0.5", "3.2", "70", "70.5", "123.4", "649.9"])
def test_weight_round_trips_through_pounds(kg):
    assert units.weight_in(units.weight_from(units.weight_in(kg, "lb"), "lb"), "kg") == Decimal(kg).quantize(Decimal("0.1"))
    assert units.lb_to_kg(units.kg_to_lb(kg)).quantize(MICRO) == Decimal(kg)


def test_pound_is_exactly_0_45359237_kg():
    assert units.lb_to_kg(1) == Decimal("0.45359237")
    assert units.weight_in(100, "lb") == Decimal("220.5")


@pytest.mark.parametrize("cm", ["50", "152.4", "170", "180.3", "199.9"])
def test_height_round_trips_through_feet_and_inches(cm):
    feet, inches = units.cm_to_ft_in(cm)
    assert abs(units.ft_in_to_cm(feet, inches) - Decimal(cm)) <= Decimal("0.13")  # inches kept to 0.1
    assert 0 <= inches < 12


def test_six_feet_is_182_88_cm():
    assert units.ft_in_to_cm(6, 0) == Decimal("182.88")
    assert units.height_text(Decimal("182.9"), "ft_in") == "6 ft 0 in"


@pytest.mark.parametrize("c", ["35", "36.6", "37", "40.1"])
def test_temperature_round_trips(c):
    assert units.f_to_c(units.c_to_f(c)).quantize(MICRO) == Decimal(c)
    assert units.temperature_in(units.temperature_from(units.temperature_in(c, "F"), "F"), "C") == Decimal(c).quantize(Decimal("0.1"))


def test_body_temperature_in_fahrenheit():
    assert units.temperature_in(37, "F") == Decimal("98.6")
    assert units.temperature_from(212, "F") == 100


@pytest.mark.parametrize("mmol", ["3.9", "5.5", "7.8", "11.1"])
def test_glucose_round_trips(mmol):
    assert units.mg_to_mmol(units.mmol_to_mg(mmol)).quantize(MICRO) == Decimal(mmol)
    assert units.glucose_in(units.glucose_from(mmol, "mmol/L"), "mmol/L") == Decimal(mmol)


def test_glucose_factor_is_18_016():
    assert units.mmol_to_mg(1) == Decimal("18.016")
    assert units.glucose_in(units.glucose_from("5.5", "mmol/L"), "mg/dL") == Decimal("99")
