"""Balances are kept by the database: every insert, update and delete of transactions, exact under
concurrency, and no code path can write the column."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from core.tenancy import tenant
from finance import selectors, services
from finance.models import FinancialAccount, Transaction
from testutils.testing import make_user

from .helpers import account, balance, expense, income, profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return make_user("fin@example.com")


def test_opening_balance_income_expense_edit_delete(owner):
    p = profile(owner)
    acc = account(p, opening=Decimal("100.00"))
    assert balance(acc) == Decimal("100.00")
    row = expense(p, acc, "30.25")
    income(p, acc, "10")
    assert balance(acc) == Decimal("79.75")
    other = account(p, "Savings", type="SAVINGS")
    services.transaction_update(row, account=other, type="expense", date=row.date, amount=Decimal("5"), description="Moved")
    assert balance(acc) == Decimal("110.00")
    assert balance(other) == Decimal("-5.00")
    services.transaction_update(row, account=other, type="income", date=row.date, amount=Decimal("5"), description="Moved")
    assert balance(other) == Decimal("5.00")
    services.transaction_delete(row)
    assert balance(other) == Decimal("0")
    services.account_update(acc, name="Main", type="CHECKING", opening_balance=Decimal("0"), credit_limit=None, is_active=True)
    assert balance(acc) == Decimal("10.00")


def test_a_direct_write_of_balance_changes_nothing(owner):
    p = profile(owner)
    acc = account(p, opening=Decimal("50"))
    with tenant(owner.id):
        FinancialAccount.objects.filter(pk=acc.pk).update(balance=Decimal("999999"))
        with connection.cursor() as cursor:
            cursor.execute("UPDATE financial_accounts SET balance = 1 WHERE id = %s", [acc.pk])
        stale = FinancialAccount.objects.get(pk=acc.pk)
    expense(p, acc, "20")
    with tenant(owner.id):
        stale.name = "Renamed"
        stale.save()  # saves every column, the stale balance of 50 included
    assert balance(acc) == Decimal("30.00")


def test_bulk_insert_updates_each_account_once(owner):
    p = profile(owner)
    a, b = account(p, "A"), account(p, "B")
    rows = [Transaction(financial_profile=p, user=owner, account=a if i % 2 else b, date=dt.date(2024, 1, 1), description="x",
                        amount=Decimal("1.10"), type="income", currency="USD") for i in range(1000)]
    with tenant(owner.id):
        Transaction.objects.bulk_create(rows)
    assert balance(a) == Decimal("550.00") and balance(b) == Decimal("550.00")
    with tenant(owner.id):
        Transaction.objects.filter(account=a).update(account=b)
    assert balance(a) == 0 and balance(b) == Decimal("1100.00")
    with tenant(owner.id):
        Transaction.objects.filter(account=b).delete()
    assert balance(b) == 0


def test_transfers_never_change_net_worth_nor_budgets(owner):
    p = profile(owner)
    checking = account(p, opening=Decimal("1000"))
    card = account(p, "Card", type="CREDIT_CARD")
    budget = services.budget_save(p, name="Food", category="Food", amount=Decimal("100"), period="MONTHLY",
                                  start_date=dt.date.today().replace(day=1), end_date=None, alert_threshold=80)
    with tenant(owner.id):
        before = selectors.net_worth(p, list(selectors.accounts_of(owner)))
    services.transfer_create(p, from_account=checking, to_account=card, date=dt.date.today(), amount=Decimal("250"), description="Pay card")
    with tenant(owner.id):
        after = selectors.net_worth(p, list(selectors.accounts_of(owner)))
        progress = selectors.budget_progress(budget, p)
        months = selectors.monthly_income_expense(p, start=dt.date.today().replace(day=1), end=dt.date.today())
    assert balance(checking) == Decimal("750.00") and balance(card) == Decimal("250.00")
    assert before["total"] == after["total"] == Decimal("1000.00")
    assert progress["spent"] == 0
    assert months == []


def test_transfer_refusals(owner):
    from finance.errors import FinanceError

    p = profile(owner)
    a = account(p)
    with pytest.raises(FinanceError):
        services.transfer_create(p, from_account=a, to_account=a, date=dt.date.today(), amount=Decimal("1"), description="x")
    eur = account(p, "Euro", currency="EUR")
    with pytest.raises(FinanceError):
        services.transfer_create(p, from_account=a, to_account=eur, date=dt.date.today(), amount=Decimal("1"), description="x")
    out, into = services.transfer_create(p, from_account=a, to_account=eur, date=dt.date.today(), amount=Decimal("100"),
                                         to_amount=Decimal("91.50"), description="x")
    assert (out.amount, into.amount, out.exchange_rate, into.currency) == (Decimal("100"), Decimal("91.50"), Decimal("0.915"), "EUR")
    assert out.transfer_id == into.transfer_id
    assert balance(a) == Decimal("-100.00") and balance(eur) == Decimal("91.50")
    services.transaction_delete(into)
    assert balance(a) == 0 and balance(eur) == 0


@pytest.mark.django_db(transaction=True)
def test_eight_threads_adding_a_hundred_each_end_exact():
    owner = make_user("threads@example.com")
    p = profile(owner)
    acc = account(p)
    start = threading.Barrier(8)
    errors = []

    def work(k):
        try:
            start.wait()
            for i in range(100):
                amount = Decimal("1.01") if (k + i) % 3 else Decimal("2.50")
                kind = "income" if i % 4 else "expense"
                services.transaction_create(p, account=acc, type=kind, date=dt.date.today(), amount=amount, description=f"{k}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = Decimal(0)
    for k in range(8):
        for i in range(100):
            amount = Decimal("1.01") if (k + i) % 3 else Decimal("2.50")
            expected += amount if i % 4 else -amount
    with tenant(owner.id):
        assert Transaction.objects.filter(account=acc).count() == 800
    assert balance(acc) == expected
