"""Amortization vectors checked against values computed independently (by hand from the formula,
with plain fractions), the payoff strategies, and the refusals."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from finance.amortization import DebtState, payoff, pmt, schedule
from finance.errors import PlanError

D = Decimal


def _half_up(value: Fraction, places: int = 2) -> Decimal:
    scaled = value * 10 ** places
    whole = scaled.numerator // scaled.denominator
    if (scaled - whole) >= Fraction(1, 2):
        whole += 1
    return D(whole).scaleb(-places)


def _reference(principal, annual, n, payment=None):
    """The same rules, written independently with exact fractions."""
    r = Fraction(annual) / 1200
    if payment is None:
        if r == 0:
            payment = _half_up(Fraction(principal) / n)
        else:
            payment = _half_up(Fraction(principal) * r / (1 - 1 / (1 + r) ** n))
    rows, balance, k = [], Fraction(principal), 0
    while balance > 0:
        k += 1
        interest = Fraction(_half_up(balance * r))
        if balance + interest <= Fraction(payment) or (n is not None and k == n):
            pay = balance + interest
        else:
            pay = Fraction(payment)
        principal_part = pay - interest
        balance -= principal_part
        rows.append((k, D(pay.numerator) / D(pay.denominator), D(interest.numerator) / D(interest.denominator), balance))
    return payment, rows


def test_pmt_matches_the_textbook_value():
    # 10,000 at 6 % over 36 months: 304.22 (the usual tables).
    assert pmt(D("10000"), D("6"), 36, "USD") == D("304.22")
    assert pmt(D("1000"), D("12"), 12, "USD") == D("88.85")


@pytest.mark.parametrize("principal,annual,n", [("10000", "6", 36), ("1000", "12", 12), ("250000", "4.125", 360), ("5000", "19.99", 24)])
def test_schedule_matches_the_reference(principal, annual, n):
    rows = schedule(principal=D(principal), annual_rate=D(annual), start=dt.date(2024, 1, 15), currency="USD", months=n)
    payment, ref = _reference(D(principal), D(annual), n)
    assert len(rows) == n == len(ref)
    assert rows[0].payment == payment
    for row, (k, pay, interest, _balance) in zip(rows, ref):
        assert (row.n, row.payment, row.interest) == (k, pay, interest)
    assert rows[-1].balance == D("0.00")
    assert sum(r.principal for r in rows) == D(principal)


def test_zero_rate_splits_evenly_and_the_last_row_absorbs_the_cents():
    rows = schedule(principal=D("1000"), annual_rate=D("0"), start=dt.date(2024, 1, 31), currency="USD", months=3)
    assert [r.payment for r in rows] == [D("333.33"), D("333.33"), D("333.34")]
    assert all(r.interest == 0 for r in rows)
    assert [r.date for r in rows] == [dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30)]
    assert rows[-1].balance == 0


def test_a_given_payment_ends_with_a_short_last_row():
    rows = schedule(principal=D("1000"), annual_rate=D("12"), start=dt.date(2024, 1, 1), currency="USD", monthly_payment=D("300"))
    _payment, ref = _reference(D("1000"), D("12"), None, payment=D("300"))
    # by hand: 10.00 interest, 710.00; 7.10, 417.10; 4.17, 121.27; last 1.21 + 121.27 = 122.48
    assert [(r.payment, r.interest, r.balance) for r in rows] == [
        (D("300"), D("10.00"), D("710.00")), (D("300"), D("7.10"), D("417.10")),
        (D("300"), D("4.17"), D("121.27")), (D("122.48"), D("1.21"), D("0.00")),
    ]
    assert [r[1] for r in ref] == [r.payment for r in rows]


def test_zero_decimal_currency_rounds_to_units():
    rows = schedule(principal=D("100000"), annual_rate=D("10"), start=dt.date(2024, 1, 1), currency="JPY", months=6)
    assert all(r.payment == r.payment.to_integral_value() for r in rows)
    assert rows[-1].balance == 0


def test_half_up_rounding_of_interest():
    # 1,000.50 at 1 %/month: interest 10.005 rounds up to 10.01
    rows = schedule(principal=D("1000.50"), annual_rate=D("12"), start=dt.date(2024, 1, 1), currency="USD", monthly_payment=D("500"))
    assert rows[0].interest == D("10.01")
    assert D("10.005").quantize(D("0.01"), rounding=ROUND_HALF_UP) == D("10.01")


def test_a_payment_below_the_first_interest_is_refused():
    with pytest.raises(PlanError):
        schedule(principal=D("10000"), annual_rate=D("12"), start=dt.date(2024, 1, 1), currency="USD", monthly_payment=D("99.99"))
    with pytest.raises(PlanError):
        schedule(principal=D("10000"), annual_rate=D("12"), start=dt.date(2024, 1, 1), currency="USD")  # no payment, no term


def test_avalanche_pays_less_interest_than_snowball():
    debts = [DebtState("card", D("3000"), D("24"), D("90")), DebtState("car", D("1000"), D("5"), D("50")),
             DebtState("loan", D("8000"), D("9"), D("160"))]
    avalanche = payoff(debts, extra=D("200"), strategy="avalanche", currency="USD")
    snowball = payoff(debts, extra=D("200"), strategy="snowball", currency="USD")
    assert avalanche.order[0] == "card" and snowball.order[0] == "car"
    assert avalanche.total_interest <= snowball.total_interest
    assert avalanche.months and snowball.months
    never = payoff([DebtState("x", D("10000"), D("24"), D("10"))], extra=D("0"), strategy="avalanche", currency="USD")
    assert never.months is None
