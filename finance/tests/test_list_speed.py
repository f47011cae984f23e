"""The finance lists at any size: one page of transactions formatted in one pass (the same text as
the template filters gave), the unbound filter form drawn once per language, accounts and
categories, every budget's progress in one query."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from core.tenancy import tenant
from finance import selectors, services
from finance.models import Transaction
from finance.templatetags.finance import money, money_formatter
from testutils.testing import client_for, make_user

from .helpers import account, expense, income, profile

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_row_formatter_writes_what_the_money_filter_writes(language):
    values = [D("0"), D("12.5"), D("-1234567.891"), D("1000"), D("0.005"), "", None]
    with translation.override(language):
        fmt = money_formatter()
        # Two, zero and three decimal places, and ISO 4217's "XXX" (no currency), which has no
        # minor unit of its own: both must fall back the same way.
        for currency in ("USD", "EUR", "JPY", "KWD", "XXX"):
            assert [fmt(v, currency) for v in values] == [money(v, currency) for v in values]


def test_the_list_shows_each_kind_of_row(settings):
    owner = make_user("rows@example.com")
    p = profile(owner)
    acc, card = account(p, opening=D("500")), account(p, "Card", type="CREDIT_CARD")
    expense(p, acc, "1234.50", description="Rent & <b>co</b>", tags=["home", "fixed", "<i>x"])
    income(p, acc, "2000", description="Salary")
    services.transfer_create(p, from_account=acc, to_account=card, date=dt.date.today(), amount=D("20"), description="Pay card")
    page = client_for(owner).get(reverse("finance:transactions")).content.decode()
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "−1,234.50 USD" in body and "+2,000.00 USD" in body and ">20.00 USD" in body
    assert "Checking → Card" in body and '<span class="badge">Transfer</span>' in body
    assert "Rent &amp; &lt;b&gt;co&lt;/b&gt;" in body and '<span class="badge">home</span> <span class="badge">fixed</span>' in body
    assert '<span class="badge">&lt;i&gt;x</span>' in body and "<i>" not in body and "<b>" not in body
    assert "Food" in body and body.count("<tr>") == 3 and "rate " not in body
    with tenant(owner.id):
        rent = Transaction.objects.get(description__startswith="Rent")
        Transaction.objects.filter(description="Salary").update(exchange_rate=D("0.912300"), subcategory="Bonus", category="Work")
    page = client_for(owner).get(reverse("finance:transactions")).content.decode()
    row = next(r for r in page.split("<tr>") if "Salary" in r)
    assert '+2,000.00 USD<br><small class="muted">rate 0.912300</small>' in row and "<td>Work › Bonus</td>" in row, row
    assert f'href="/finance/transactions/{rent.pk}/edit/">Edit<span class="visually-hidden"> Rent &amp;' in body
    page = client_for(owner).get(reverse("finance:transactions"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "−1\xa0234,50 USD" in page and "Editar" in page


def test_the_filter_form_follows_renamed_accounts_and_new_categories():
    owner = make_user("filters@example.com")
    p = profile(owner)
    acc = account(p, "Checking")
    client = client_for(owner)
    assert ">Checking</option>" in client.get(reverse("finance:transactions")).content.decode()
    services.account_update(acc, name="Everyday", type="CHECKING", opening_balance=D(0), credit_limit=None, is_active=True)
    services.category_save(p, name="Garden")
    page = client.get(reverse("finance:transactions")).content.decode()
    assert ">Everyday</option>" in page and ">Checking</option>" not in page and ">Garden</option>" in page
    other = make_user("filters-other@example.com")
    account(profile(other), "Checking")
    page = client_for(other).get(reverse("finance:transactions")).content.decode()
    assert ">Checking</option>" in page and "Everyday" not in page  # one person's form is never another's
    # A search keeps what was typed, and the pages link with it.
    page = client.get(reverse("finance:transactions") + "?q=zz%22x").content.decode()
    assert 'value="zz&quot;x"' in page and "No transactions match these filters." in page


def test_every_budget_in_one_query_with_the_numbers_of_each():
    owner = make_user("budgets@example.com")
    p = profile(owner)
    acc = account(p)
    eur = account(p, "Euros", currency="EUR")
    services.rate_set(p, currency="EUR", date=dt.date.today() - dt.timedelta(days=40), rate=D("1.5"))
    first = dt.date.today().replace(day=1)
    for n in range(8):
        services.budget_save(p, name=f"B{n}", category="Food" if n % 2 else "Leisure", amount=D("100"), period="MONTHLY",
                             start_date=first - dt.timedelta(days=62), end_date=None, alert_threshold=80, rollover=n == 3,
                             account=acc if n == 5 else None)
    expense(p, acc, "10", day=first)
    expense(p, eur, "10", day=first)  # 15 USD
    expense(p, acc, "30", day=first - dt.timedelta(days=5), category="Food")  # the previous month: carried over by B3 only
    with tenant(owner.id):
        budgets = list(selectors.budgets_of(owner))
        with CaptureQueriesContext(connection) as queries:
            rows = {r["budget"].name: r for r in selectors.budgets_progress(budgets, p)}
    assert len(queries) == 1
    assert rows["B1"]["spent"] == D("25.00") and rows["B1"]["percent"] == 25 and rows["B1"]["complete"]
    assert rows["B0"]["spent"] == D("0.00")
    assert rows["B3"]["carried"] == D("70.00") and rows["B3"]["available"] == D("170.00") and rows["B3"]["spent"] == D("25.00")
    assert rows["B5"]["spent"] == D("10.00") and rows["B5"]["currency"] == "USD"  # its account only
    with tenant(owner.id):
        assert all(selectors.budget_progress(b, p) == rows[b.name] for b in budgets)


def test_budget_pages_run_the_same_queries_for_one_and_many_budgets():
    counts = []
    for n, email in ((1, "one-budget@example.com"), (12, "many-budgets@example.com")):
        owner = make_user(email)
        p = profile(owner)
        acc = account(p)
        for k in range(n):
            services.budget_save(p, name=f"B{k}", category="Food", amount=D("100"), period="MONTHLY", start_date=dt.date.today().replace(day=1),
                                 end_date=None, alert_threshold=80, rollover=k % 2 == 1)
            expense(p, acc, "1")
        client = client_for(owner)
        row = []
        for name in ("overview", "budgets", "reports"):
            client.get(reverse(f"finance:{name}"))
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(f"finance:{name}")).status_code == 200
            row.append(len(queries))
        counts.append(row)
    assert counts[0] == counts[1], counts


def test_rows_of_a_large_list_are_one_page(settings):
    owner = make_user("large-list@example.com")
    p = profile(owner)
    acc = account(p)
    with tenant(owner.id):
        Transaction.objects.bulk_create([
            Transaction(financial_profile=p, user=owner, account=acc, currency="USD", date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
                        description=f"row {i}", amount=D("1.00"), type="expense", category="Food") for i in range(1200)])
    page = client_for(owner).get(reverse("finance:transactions") + "?page=3").content.decode()
    assert page.split("<tbody>")[1].count("<tr>") == settings.FINANCE_TRANSACTIONS_PAGE_SIZE
    assert "Page 3 of 24" in page and re.search(r'href="\?page=4" rel="next"', page)


# The rows as the template wrote them before they moved to finance/rows.py (joined as the page
# joins them now).
_ROWS_TEMPLATE = """{% load i18n finance %}{% for t in page %}{% if not forloop.first %}
    {% endif %}<tr>
      <td>{{ t.date|date:"SHORT_DATE_FORMAT" }}</td>
      <td>{{ t.description }}{% for tag in t.tags %} <span class="badge">{{ tag }}</span>{% endfor %}{% if t.import_batch_id %} <span class="badge">{% translate "imported" %}</span>{% endif %}</td>
      <td>{% if t.type == "transfer" %}{{ t.from_account.name|default:"—" }} → {{ t.to_account.name|default:"—" }}{% else %}{{ t.account.name|default:"—" }}{% endif %}</td>
      <td>{% if t.type == "transfer" %}<span class="badge">{% translate "Transfer" %}</span>{% else %}{{ t.category }}{% if t.subcategory %} › {{ t.subcategory }}{% endif %}{% endif %}</td>
      <td class="num {{ t.type }}">{% if t.type == "expense" %}−{% elif t.type == "income" %}+{% endif %}{{ t.amount|money:t.currency }}{% if t.exchange_rate %}<br><small class="muted">{% blocktranslate with rate=t.exchange_rate|floatformat:"-6" %}rate {{ rate }}{% endblocktranslate %}</small>{% endif %}</td>
      <td><a href="{% url 'finance:transaction_edit' t.pk %}">{% translate "Edit" %}<span class="visually-hidden"> {{ t.description }}</span></a></td>
    </tr>{% endfor %}"""


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_rows_are_byte_for_byte_what_the_template_wrote(language):
    from django.template import engines

    from finance.models import ImportBatch

    owner = make_user(f"identity-{language}@example.com")
    p = profile(owner)
    acc, card = account(p, "Checking & <co>", opening=D("500")), account(p, "Card", type="CREDIT_CARD")
    gone = account(p, "Closed")
    yen = account(p, "Yen", currency="JPY")
    expense(p, acc, "1234.50", description='Rent & <b>"co"</b>', tags=["home", "<i>x"])
    income(p, acc, "2000.5", description="Salary")
    expense(p, yen, "1500", description="Sushi", day=dt.date(2024, 3, 9))
    expense(p, gone, "3", description="Old")
    services.transfer_create(p, from_account=acc, to_account=card, date=dt.date.today(), amount=D("20"), description="Pay card")
    with tenant(owner.id):
        batch = ImportBatch.objects.create(financial_profile=p, user=owner, account=acc, source="csv", filename="bank.csv", status=ImportBatch.Status.DONE)
        Transaction.objects.filter(description="Salary").update(exchange_rate=D("0.912300"), subcategory="Bonus", category="Work", import_batch=batch)
        Transaction.objects.filter(description="Sushi").update(exchange_rate=D("1"), tags=[])
        Transaction.objects.filter(description="Old").update(tags=["é", 7, None])  # written by hand: not only strings
    services.account_delete(gone)
    response = client_for(owner).get(reverse("finance:transactions"), HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode().split("<tbody>\n    ")[1].split("\n    </tbody>")[0]
    with tenant(owner.id), translation.override(language):
        page = list(selectors.transactions_of(owner, selectors.TransactionFilters()))
        expected = engines["django"].from_string(_ROWS_TEMPLATE).render({"page": page})
    assert len(page) == 5 and body == expected


def _fields(obj):
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_overview_reads_in_one_round_trip_what_the_orm_read():
    from finance.models import FinanceAlert

    owner = make_user("overview-rows@example.com")
    p = profile(owner)
    acc = account(p, "Zed & <co>", opening=D("12.5"))
    account(p, "Alpha", type="CREDIT_CARD")
    first = dt.date.today().replace(day=1)
    for n in range(8):  # six of the active ones shown, the inactive one not
        services.budget_save(p, name=f"B{n}", category="Food", amount=D("100"), period="MONTHLY", start_date=first, end_date=None,
                             alert_threshold=80, rollover=False, account=acc if n % 3 == 0 else None)
    rent = services.recurring_save(p, name="Rent", amount=D("700"), frequency="MONTHLY", category="Home", start_date=first, end_date=None,
                                   auto_debit=False, account=acc)
    for n in range(12):
        expense(p, acc, f"{n + 1}.25", description=f"row {n}", day=first + dt.timedelta(days=n % 3), tags=["a"])
    services.transfer_create(p, from_account=acc, to_account=account(p, "Savings"), date=first, amount=D("5"), description="Move")
    with tenant(owner.id):
        from finance.models import Budget
        Budget.objects.filter(name="B7").update(is_active=False)
        budgets = {b.name: b for b in Budget.objects.all()}
        FinanceAlert.objects.create(financial_profile=p, user=owner, kind="BUDGET", budget=budgets["B7"], period_start=first, threshold=80)
        FinanceAlert.objects.create(financial_profile=p, user=owner, kind="DUE", recurring_payment=rent, period_start=first)
        FinanceAlert.objects.create(financial_profile=p, user=owner, kind="DUE", recurring_payment=rent, period_start=first - dt.timedelta(days=31),
                                    dismissed=True)
        with CaptureQueriesContext(connection) as queries:
            rows = selectors.overview_of(owner)
        assert len(queries) == 1
        orm = {"accounts": list(selectors.accounts_of(owner)), "budgets": list(selectors.budgets_of(owner).filter(is_active=True)[:6]),
               "alerts": selectors.alerts_banner(owner),
               "recent": list(selectors.transactions_of(owner, selectors.TransactionFilters()).select_related(None)[:8])}
        assert _fields(rows["profile"]) == _fields(selectors.profile_of(owner))
        for name, expected in orm.items():
            assert [_fields(x) for x in rows[name]] == [_fields(x) for x in expected], name
        assert [_fields(b.account) for b in rows["budgets"]] == [_fields(b.account) for b in orm["budgets"]]
        assert [(_fields(a.budget), _fields(a.recurring_payment)) for a in rows["alerts"]] == [
            (_fields(a.budget), _fields(a.recurring_payment)) for a in orm["alerts"]]
        assert len(rows["budgets"]) == 6 and len(rows["alerts"]) == 2 and len(rows["recent"]) == 8 and rows["recent"][0].tags == ["a"]
    page = client_for(owner).get(reverse("finance:overview")).content.decode()
    assert "Zed &amp; &lt;co&gt;" in page and "“B7”" in page and "“Rent”" in page and page.count('class="finance-budget"') == 6
    assert selectors.overview_of(make_user("no-profile@example.com")) is None


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_section_links_kept_per_page_are_the_templates(language):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    client = client_for(make_user(f"nav-{language}@example.com"))
    for name in ("overview", "transactions"):
        url = reverse(f"finance:{name}")
        with translation.override(language):
            expected = render_to_string("finance/_nav.html", {"request": RequestFactory().get(url)})
        for _ in range(2):  # drawn, then kept
            page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert expected in page and f'href="{url}" aria-current="page"' in expected
