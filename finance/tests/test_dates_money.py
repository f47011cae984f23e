"""The month-end rule, budget periods, and strict money parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from finance.dates import add_months, occurrence_after, period_bounds
from finance.errors import MoneyError
from finance.money import parse_amount, round_money


@pytest.mark.parametrize("year,february", [(2024, 29), (2023, 28)])
def test_month_end_rule_across_february(year, february):
    start = dt.date(year, 1, 31)
    assert occurrence_after(start, "MONTHLY", start) == dt.date(year, 2, february)
    assert occurrence_after(start, "MONTHLY", dt.date(year, 2, february)) == dt.date(year, 3, 31)
    assert occurrence_after(start, "MONTHLY", dt.date(year, 3, 31)) == dt.date(year, 4, 30)
    assert occurrence_after(start, "MONTHLY", dt.date(year, 4, 30)) == dt.date(year, 5, 31)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_other_frequencies():
    start = dt.date(2024, 1, 10)
    assert occurrence_after(start, "WEEKLY", start) == dt.date(2024, 1, 17)
    assert occurrence_after(start, "BIWEEKLY", dt.date(2024, 1, 20)) == dt.date(2024, 1, 24)
    assert occurrence_after(start, "QUARTERLY", start) == dt.date(2024, 4, 10)
    assert occurrence_after(start, "YEARLY", dt.date(2024, 6, 1)) == dt.date(2025, 1, 10)


def test_budget_periods():
    assert period_bounds("MONTHLY", dt.date(2024, 1, 15), dt.date(2024, 3, 3)) == (dt.date(2024, 2, 15), dt.date(2024, 3, 15))
    assert period_bounds("WEEKLY", dt.date(2024, 1, 1), dt.date(2024, 1, 9)) == (dt.date(2024, 1, 8), dt.date(2024, 1, 15))
    assert period_bounds("YEARLY", dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == (dt.date(2024, 1, 1), dt.date(2025, 1, 1))


@pytest.mark.parametrize("text,language,currency,expected", [
    ("12.50", "en", "USD", Decimal("12.50")), ("1,234.56", "en", "USD", Decimal("1234.56")),
    ("12,50", "es", "EUR", Decimal("12.50")), ("1.234,5", "es", "EUR", Decimal("1234.5")),
    ("1000", "en", "JPY", Decimal("1000")), ("1.234", "en", "KWD", Decimal("1.234")),
])
def test_amounts_accepted(text, language, currency, expected):
    assert parse_amount(text, currency=currency, language=language) == expected


@pytest.mark.parametrize("text,language,currency,message", [
    ("0", "en", "USD", "greater than zero"), ("-5", "en", "USD", "greater than zero"), ("1e309", "en", "USD", "digits"),
    ("12,50", "en", "USD", "point for decimals"), ("1.234", "en", "EUR", "at most 2 decimals"), ("NaN", "en", "USD", "digits"),
    ("10.5", "en", "JPY", "no decimals"), ("", "en", "USD", "Enter an amount"), ("99999999999999", "en", "USD", "too large"),
])
def test_amounts_refused(text, language, currency, message):
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, currency=currency, language=language)
    assert message in str(refused.value)


def test_unknown_currency_and_half_up():
    with pytest.raises(MoneyError):
        parse_amount("1", currency="XYZ", language="en")
    assert round_money(Decimal("2.345"), "EUR") == Decimal("2.35")
    assert round_money(Decimal("0.5"), "JPY") == Decimal("1")
