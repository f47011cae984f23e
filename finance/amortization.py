"""Loan arithmetic: the amortization schedule and the avalanche/snowball payoff plans.

Pure functions on Decimal. r = annual rate / 12 / 100. With no given payment the payment is
PMT = P·r / (1 − (1 + r)^−n) (P / n when r = 0), rounded half-up to the currency's minor unit before
the rows are computed; each row's interest is round(balance · r), its principal payment − interest;
the last row pays what is left, so the balance ends at exactly zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.utils.translation import gettext as _

from .dates import add_months, months_between
from .errors import PlanError
from .money import quantum

# A plan longer than this is refused as one that, for a person, never ends.
MAX_MONTHS = 1200


@dataclass(frozen=True)
class Row:
    n: int
    date: dt.date
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return Decimal(annual_rate) / Decimal(1200)


def pmt(principal: Decimal, annual_rate: Decimal, months: int, currency: str) -> Decimal:
    q = quantum(currency)
    if months <= 0:
        raise PlanError(_("The maturity date must be at least a month after the start."))
    with localcontext() as ctx:
        ctx.prec = 50
        r = monthly_rate(annual_rate)
        if r == 0:
            value = Decimal(principal) / months
        else:
            value = Decimal(principal) * r / (1 - (1 + r) ** -months)
    return value.quantize(q, rounding=ROUND_HALF_UP)


def term_months(start: dt.date | None, maturity: dt.date | None) -> int | None:
    if start is None or maturity is None:
        return None
    return months_between(start, maturity)


def schedule(*, principal: Decimal, annual_rate: Decimal, start: dt.date, currency: str,
             monthly_payment: Decimal = Decimal(0), months: int | None = None) -> list[Row]:
    """Every payment until the balance is zero. ``months`` (the term) is needed without a payment."""
    q = quantum(currency)
    principal = Decimal(principal)
    if principal <= 0:
        return []
    r = monthly_rate(annual_rate)
    if monthly_payment:
        payment = Decimal(monthly_payment).quantize(q, rounding=ROUND_HALF_UP)
        term = None
    else:
        if not months:
            raise PlanError(_("Give a monthly payment or a maturity date to compute the plan."))
        payment = pmt(principal, annual_rate, months, currency)
        term = months
    first_interest = (principal * r).quantize(q, rounding=ROUND_HALF_UP)
    if r > 0 and payment <= first_interest:
        raise PlanError(
            _("A payment of %(payment)s does not cover the first month's interest (%(interest)s): the debt would never be paid.")
            % {"payment": payment, "interest": first_interest}
        )
    rows: list[Row] = []
    balance = principal.quantize(q, rounding=ROUND_HALF_UP)
    n = 0
    while balance > 0:
        n += 1
        if n > MAX_MONTHS:
            raise PlanError(_("At this payment the debt would take more than %(years)s years to pay.") % {"years": MAX_MONTHS // 12})
        interest = (balance * r).quantize(q, rounding=ROUND_HALF_UP)
        if balance + interest <= payment or (term is not None and n >= term):
            row_payment, principal_part = balance + interest, balance
        else:
            row_payment, principal_part = payment, payment - interest
        balance -= principal_part
        rows.append(Row(n, add_months(start, n), row_payment, interest, principal_part, balance))
    return rows


@dataclass
class DebtState:
    key: object
    balance: Decimal
    annual_rate: Decimal
    minimum: Decimal


@dataclass(frozen=True)
class PayoffResult:
    strategy: str
    months: int | None  # None: never paid within MAX_MONTHS
    total_interest: Decimal
    order: list  # the keys in the order they are paid off


def payoff(debts: list[DebtState], *, extra: Decimal, strategy: str, currency: str) -> PayoffResult:
    """Month by month: interest accrues on each balance, every debt gets its minimum, and the extra
    plus the minimums of the debts already paid go to the target — the highest rate first
    (avalanche) or the smallest balance first (snowball)."""
    q = quantum(currency)
    states = [DebtState(d.key, Decimal(d.balance), Decimal(d.annual_rate), Decimal(d.minimum)) for d in debts if d.balance > 0]
    budget = sum((d.minimum for d in states), Decimal(0)) + Decimal(extra)
    total_interest = Decimal(0)
    order: list = []
    month = 0
    while any(d.balance > 0 for d in states):
        month += 1
        if month > MAX_MONTHS or budget <= 0:
            return PayoffResult(strategy, None, total_interest, order)
        for d in states:
            if d.balance > 0:
                interest = (d.balance * monthly_rate(d.annual_rate)).quantize(q, rounding=ROUND_HALF_UP)
                d.balance += interest
                total_interest += interest
        left = budget
        for d in states:
            if d.balance > 0:
                paid = min(d.minimum, d.balance, left)
                d.balance -= paid
                left -= paid
        open_ = [d for d in states if d.balance > 0]
        if strategy == "avalanche":
            open_.sort(key=lambda d: (-d.annual_rate, d.balance))
        else:
            open_.sort(key=lambda d: (d.balance, -d.annual_rate))
        for d in open_:
            if left <= 0:
                break
            paid = min(d.balance, left)
            d.balance -= paid
            left -= paid
        for d in states:
            if d.balance <= 0 and d.key not in order:
                order.append(d.key)
    return PayoffResult(strategy, month, total_interest, order)
