"""Finance pages in a real Chromium at phone and desktop sizes: the charts draw from the page's
data (no CSP problem or script error), the numbers are in tables beside them, no sideways scroll,
and a transaction is added with the keyboard-reachable form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from core.tenancy import tenant
from finance import services
from finance.models import Transaction
from testutils.testing import make_user

from .helpers import account, balance, expense, income, profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
DRAWN = "id => { const c = document.getElementById(id); return !!(c && window.Chart && window.Chart.getChart(c)); }"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_reports_debt_and_transactions(signed_in_page, viewport):
    user = make_user(f"fin-{viewport}@example.com", name="Fran")
    p = profile(user)
    acc = account(p, opening=Decimal("2500"))
    today = dt.date.today()
    income(p, acc, "3000", day=today.replace(day=1))
    expense(p, acc, "120.40", day=today, category="Food", description="A rather long description of a grocery run that wraps")
    services.budget_save(p, name="Food", category="Food", amount=Decimal("400"), period="MONTHLY", start_date=today.replace(day=1),
                         end_date=None, alert_threshold=80)
    debt = services.debt_save(p, name="Car", type="AUTO", currency="USD", principal=Decimal("10000"), balance=None, interest_rate=Decimal("6"),
                              monthly_payment=Decimal("0"), start_date=dt.date(2024, 1, 15), maturity_date=dt.date(2027, 1, 15))
    page = signed_in_page(user, viewport)

    page.goto(reverse("finance:reports"))
    for chart in ("chart-months", "chart-categories", "chart-worth", "chart-budgets"):
        page.wait_for_function(DRAWN, arg=chart)
    assert "120.40 USD" in page.locator(".finance-reports").inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    page.goto(reverse("finance:debt_detail", args=[debt.pk]))
    page.wait_for_function(DRAWN, arg="chart-debt")
    assert page.get_by_role("cell", name="304.22 USD").first.is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    page.goto(reverse("finance:transaction_new"))
    page.get_by_label("Amount").fill("9.99")
    page.get_by_label("Description").fill("Cinema")
    page.locator("#id_category").select_option("Leisure")
    page.get_by_role("button", name="Save").click()
    assert "The transaction was saved." in page.locator(".messages").inner_text()
    assert page.get_by_role("cell", name="Cinema", exact=True).is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    with tenant(user.id):
        assert Transaction.objects.filter(description="Cinema", amount=Decimal("9.99")).exists()
    assert balance(acc) == Decimal("2500") + Decimal("3000") - Decimal("120.40") - Decimal("9.99")
    assert page.problems == []
