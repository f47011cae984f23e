"""The finance pages as a person sees them: every page answers, every object URL answers another
person with 404, bad input is refused per field with nothing saved, list pages keep their query count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.tenancy import tenant
from finance import services
from finance.models import Budget, Debt, FinancialAccount, Transaction
from testutils.testing import client_for, make_user

from .helpers import account, balance, expense, profile

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def owner(db):
    return make_user("pages@example.com")


@pytest.fixture
def world(owner):
    """One of everything, for the owner."""
    p = profile(owner)
    acc = account(p, opening=D("500"))
    card = account(p, "Card", type="CREDIT_CARD")
    row = expense(p, acc, "12.50")
    leg, _other = services.transfer_create(p, from_account=acc, to_account=card, date=dt.date.today(), amount=D("20"), description="Pay")
    budget = services.budget_save(p, name="Food", category="Food", amount=D("100"), period="MONTHLY", start_date=dt.date.today().replace(day=1),
                                  end_date=None, alert_threshold=10)
    debt = services.debt_save(p, name="Car", type="AUTO", currency="USD", principal=D("10000"), balance=None, interest_rate=D("6"),
                              monthly_payment=D("0"), start_date=dt.date(2024, 1, 15), maturity_date=dt.date(2027, 1, 15), account_number="12345678")
    inv = services.investment_save(p, name="World", type="ETF", symbol="vwce", currency="USD", quantity=D("3"), purchase_price=D("100"),
                                   current_price=D("110"), purchase_date=None, price_date=dt.date.today())
    rec = services.recurring_save(p, name="Rent", amount=D("900"), frequency="MONTHLY", category="Housing", start_date=dt.date.today(),
                                  end_date=None, auto_debit=True, account=acc)
    rate = services.rate_set(p, currency="EUR", date=dt.date.today(), rate=D("1.1"))
    with tenant(owner.id):
        category = p.categories.filter(parent__isnull=True).first()
    from finance import budget_alerts
    budget_alerts.check_user(owner.id)
    with tenant(owner.id):
        alert = p.alerts.first()
    return {"profile": p, "account": acc, "transaction": row, "transfer": leg, "budget": budget, "debt": debt, "investment": inv,
            "recurring": rec, "rate": rate, "category": category, "alert": alert}


PAGES = ["overview", "profile", "account_new", "transactions", "transaction_new", "transfer_new", "categories", "rates", "budgets",
         "budget_new", "debts", "debt_new", "investments", "investment_new", "recurring", "recurring_new", "import", "reports", "export"]
OBJECT_GETS = [("account_edit", "account"), ("transaction_edit", "transaction"), ("transaction_edit", "transfer"), ("category_edit", "category"),
               ("budget_edit", "budget"), ("debt_detail", "debt"), ("debt_edit", "debt"), ("debt_schedule_csv", "debt"),
               ("investment_edit", "investment"), ("recurring_edit", "recurring")]
OBJECT_POSTS = [("account_delete", "account"), ("transaction_delete", "transaction"), ("category_delete", "category"), ("rate_delete", "rate"),
                ("budget_delete", "budget"), ("debt_delete", "debt"), ("debt_payment_new", "debt"), ("investment_delete", "investment"),
                ("recurring_delete", "recurring"), ("alert_dismiss", "alert")]


def test_every_page_answers_the_owner(owner, world):
    client = client_for(owner)
    for name in PAGES:
        assert client.get(reverse(f"finance:{name}")).status_code == 200, name
    for name, key in OBJECT_GETS:
        response = client.get(reverse(f"finance:{name}", args=[world[key].pk]))
        assert response.status_code == 200, name
    page = client.get(reverse("finance:overview")).content.decode()
    assert "467.50 USD" in page  # 500 − 12.50 − 20 (the transfer leaves checking)
    assert "You have spent 10 %" in page  # the budget alert banner


def test_another_person_gets_404_everywhere(owner, world):
    other = client_for(make_user("other@example.com"))
    for name, key in OBJECT_GETS:
        assert other.get(reverse(f"finance:{name}", args=[world[key].pk])).status_code == 404, name
    for name, key in OBJECT_POSTS:
        assert other.post(reverse(f"finance:{name}", args=[world[key].pk]), {"amount": "10", "date": "2024-02-01"}).status_code == 404, name
    with tenant(owner.id):
        assert Transaction.objects.filter(pk=world["transaction"].pk).exists()
        assert Debt.objects.get(pk=world["debt"].pk).payments.count() == 0


def test_schedule_csv(owner, world):
    response = client_for(owner).get(reverse("finance:debt_schedule_csv", args=[world["debt"].pk]))
    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "n,date,payment,interest,principal,balance"
    assert lines[1] == "1,2024-02-15,304.22,50.00,254.22,9745.78"
    assert len(lines) == 37 and lines[-1].startswith("36,2027-01-15,") and lines[-1].endswith(",0.00")


@pytest.mark.parametrize("data,field,message", [
    ({"amount": "0"}, "amount", "greater than zero"),
    ({"amount": "-5"}, "amount", "greater than zero"),
    ({"amount": "1e309"}, "amount", "digits"),
    ({"amount": "12,50"}, "amount", "point for decimals"),
])
def test_transaction_bad_amounts(owner, world, data, field, message):
    client = client_for(owner)
    before = balance(world["account"])
    post = {"type": "expense", "account": world["account"].pk, "date": "2024-03-01", "description": "x", **data}
    response = client.post(reverse("finance:transaction_new"), post)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert balance(world["account"]) == before


def test_three_decimals_in_eur_and_unknown_currency(owner, world):
    client = client_for(owner)
    response = client.post(reverse("finance:account_new"), {"name": "Euro", "type": "CHECKING", "currency": "EUR", "opening_balance": "1.234"})
    assert response.status_code == 400 and "at most 2 decimals" in str(response.context["form"].errors["opening_balance"])
    response = client.post(reverse("finance:account_new"), {"name": "X", "type": "CHECKING", "currency": "XYZ"})
    assert response.status_code == 400 and "currency" in response.context["form"].errors
    with tenant(owner.id):
        assert FinancialAccount.objects.filter(user=owner).count() == 2


def test_transfer_refusals_through_the_form(owner, world):
    client = client_for(owner)
    acc = world["account"]
    stranger = make_user("stranger@example.com")
    foreign = account(profile(stranger), "Theirs")
    base = {"date": "2024-03-01", "amount": "5", "description": "x"}
    response = client.post(reverse("finance:transfer_new"), {**base, "from_account": acc.pk, "to_account": acc.pk})
    assert response.status_code == 400 and "two different accounts" in str(response.context["form"].errors)
    response = client.post(reverse("finance:transfer_new"), {**base, "from_account": acc.pk, "to_account": foreign.pk})
    assert response.status_code == 400 and "Choose one of your accounts" in str(response.context["form"].errors["to_account"])
    assert balance(foreign) == 0


def test_budget_and_debt_refusals(owner, world):
    client = client_for(owner)
    response = client.post(reverse("finance:budget_new"), {"name": "B", "category": "Food", "amount": "10", "period": "MONTHLY",
                                                           "start_date": "2024-01-01", "alert_threshold": "150"})
    assert response.status_code == 400 and "between 1 and 100" in str(response.context["form"].errors["alert_threshold"])
    base = {"name": "D", "type": "PERSONAL", "currency": "USD", "principal": "1000", "start_date": "2024-01-01", "priority": "0"}
    response = client.post(reverse("finance:debt_new"), {**base, "interest_rate": "200", "maturity_date": "2025-01-01"})
    assert response.status_code == 400 and "between 0 and 100" in str(response.context["form"].errors["interest_rate"])
    response = client.post(reverse("finance:debt_new"), {**base, "interest_rate": "5", "maturity_date": "2023-01-01"})
    assert response.status_code == 400 and "after the start date" in str(response.context["form"].errors["maturity_date"])
    response = client.post(reverse("finance:debt_new"), {**base, "interest_rate": "12", "monthly_payment": "5"})
    assert response.status_code == 400 and "never be paid" in str(response.context["form"].errors)
    with tenant(owner.id):
        assert Budget.objects.filter(user=owner).count() == 1 and Debt.objects.filter(user=owner).count() == 1


def test_debt_payment_splits_interest_and_principal(owner, world):
    debt = world["debt"]
    client = client_for(owner)
    response = client.post(reverse("finance:debt_payment_new", args=[debt.pk]), {"date": "2024-02-15", "amount": "304.22"})
    assert response.status_code == 302
    with tenant(owner.id):
        debt.refresh_from_db()
        payment = debt.payments.get()
    # 31 days of 6 % on 10,000: 10000 · 0.06 · 31 / 365 = 50.96
    assert (payment.interest_paid, payment.principal_paid) == (D("50.96"), D("253.26"))
    assert debt.balance == D("9746.74")


def _seed(owner, n):
    p = profile(owner)
    acc = account(p)
    with tenant(owner.id):
        Transaction.objects.bulk_create([
            Transaction(financial_profile=p, user=owner, account=acc, currency="USD", date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
                        description=f"row {i}", amount=D("1.00"), type="expense", category="Food", tags=["t"]) for i in range(n)])
    return acc


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_run_the_same_queries_for_10_and_1000_rows():
    small, large = make_user("small@example.com"), make_user("large@example.com")
    _seed(small, 10)
    _seed(large, 1000)
    for name in ("transactions", "overview", "reports", "budgets"):
        url = reverse(f"finance:{name}")
        a, b = client_for(small), client_for(large)
        a.get(url), b.get(url)  # first visits create nothing more; warm both
        assert _queries(a, url) == _queries(b, url), name
    url = reverse("finance:transactions") + "?q=row&type=expense&amount_min=0.5"
    assert _queries(client_for(small), url) == _queries(client_for(large), url)


def test_spanish_amounts_round_trip_through_the_edit_form(owner):
    client = client_for(owner)
    es = {"HTTP_ACCEPT_LANGUAGE": "es"}
    response = client.post(reverse("finance:account_new"), {"name": "Cuenta", "type": "CHECKING", "currency": "EUR",
                                                            "opening_balance": "1.234,50", "is_active": "on"}, **es)
    assert response.status_code == 302
    with tenant(owner.id):
        acc = FinancialAccount.objects.get(user=owner, name="Cuenta")
    assert acc.balance == D("1234.50")
    edit = client.get(reverse("finance:account_edit", args=[acc.pk]), **es).content.decode()
    assert 'value="1234,50"' in edit
    response = client.post(reverse("finance:account_edit", args=[acc.pk]), {"name": "Cuenta", "type": "CHECKING", "opening_balance": "1234,50",
                                                                             "is_active": "on"}, **es)
    assert response.status_code == 302 and balance(acc) == D("1234.50")
    response = client.post(reverse("finance:transaction_new"), {"type": "expense", "account": acc.pk, "date": "2024-03-01", "description": "x",
                                                                "amount": "12.50"}, **es)
    assert response.status_code == 400
    # In Spanish a point is the grouping separator: 12.50 is refused, asking for a comma, in Spanish.
    assert "Usa una coma para los decimales" in str(response.context["form"].errors["amount"])


def test_malformed_query_parameters_never_fail(owner, world):
    client = client_for(owner)
    for url in ("/finance/import/?account=a-b-c-d-e", "/finance/import/?account=%00", "/finance/transactions/?account=nope&page=x&amount_min=1e309",
                "/finance/transactions/?date_from=2024-13-01&type=weird&q=%00", "/finance/debts/?extra=-5", "/finance/debts/?extra=1e309"):
        assert client.get(url).status_code in (200, 400), url


def test_editing_a_transfer_replaces_both_legs(owner, world):
    client = client_for(owner)
    leg = world["transfer"]
    acc = world["account"]
    with tenant(owner.id):
        card = FinancialAccount.objects.get(user=owner, name="Card")
    page = client.get(reverse("finance:transaction_edit", args=[leg.pk])).content.decode()
    assert 'value="20.00"' in page
    response = client.post(reverse("finance:transaction_edit", args=[leg.pk]), {"from_account": acc.pk, "to_account": card.pk,
                                                                                "date": "2024-03-01", "amount": "35", "description": "Pay card"})
    assert response.status_code == 302
    assert balance(acc) == D("500") - D("12.50") - D("35") and balance(card) == D("35")
    with tenant(owner.id):
        legs = list(Transaction.objects.filter(transfer_id=leg.transfer_id))
    assert len(legs) == 2 and {x.amount for x in legs} == {D("35")}
    assert client.post(reverse("finance:transaction_delete", args=[legs[1].pk])).status_code == 302
    assert balance(card) == 0
    with tenant(owner.id):
        assert not Transaction.objects.filter(transfer_id=leg.transfer_id).exists()


def test_investment_returns_and_prices_file(owner, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    inv = world["investment"]
    assert (inv.returns, inv.returns_percentage) == (D("30.00"), D("10.000"))
    client = client_for(owner)
    response = client.post(reverse("finance:investment_prices"), {"file": SimpleUploadedFile("p.csv", b"symbol,price,date\nVWCE,90,2024-05-31\n")},
                           follow=True)
    assert "Prices updated for 1 holdings." in response.content.decode()
    with tenant(owner.id):
        inv.refresh_from_db()
    assert (inv.current_price, inv.returns, inv.returns_percentage, inv.price_date) == (D("90"), D("-30.00"), D("-10.000"), dt.date(2024, 5, 31))
    response = client.post(reverse("finance:investment_new"), {"name": "X", "type": "STOCK", "currency": "USD", "quantity": "-1",
                                                               "purchase_price": "10"})
    assert response.status_code == 400
