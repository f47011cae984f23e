"""Shared set-up of the finance tests: a person with a profile and accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.tenancy import tenant
from finance import services
from finance.models import FinancialAccount


def profile(user, currency="USD"):
    p = services.profile_for(user)
    if p.currency != currency:
        services.profile_update(p, currency=currency, monthly_income=None, savings_goal=None)
    return p


def account(p, name="Checking", *, type="CHECKING", currency="USD", opening=Decimal(0)):
    return services.account_create(p, name=name, type=type, currency=currency, opening_balance=opening)


def balance(acc) -> Decimal:
    with tenant(acc.user_id):
        return FinancialAccount.objects.get(pk=acc.pk).balance


def expense(p, acc, amount, *, day=None, category="Food", description="Groceries", **kw):
    return services.transaction_create(p, account=acc, type="expense", date=day or dt.date.today(), amount=Decimal(amount),
                                       description=description, category=category, **kw)


def income(p, acc, amount, *, day=None, description="Salary", **kw):
    return services.transaction_create(p, account=acc, type="income", date=day or dt.date.today(), amount=Decimal(amount),
                                       description=description, category="Income", **kw)
