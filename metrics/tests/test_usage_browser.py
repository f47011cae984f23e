"""The Usage page in a real browser: the charts draw under the strict CSP, on a phone and a desktop."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.tenancy import tenant
from metrics.models import UsageLog
from metrics.plans import utc_month
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser]


@pytest.fixture
def charts_user(transactional_db):
    """A user with five days of usage; created before Playwright starts its event loop, since Django
    refuses database calls from a thread running one."""
    user = make_user("charts@example.com")
    conversation = factories.make("conversations", user)
    year, month = utc_month()
    with tenant(user.id):
        UsageLog.objects.bulk_create([
            UsageLog(user=user, agent=conversation.agent, conversation=conversation, model="gpt-4o-mini",
                     tokens_input=100 * day, tokens_output=50, total_tokens=100 * day + 50, total_cost=Decimal("0.002"),
                     timestamp=dt.datetime(year, month, day, 10, tzinfo=dt.timezone.utc))
            for day in range(1, 6)
        ])
    return user


@pytest.mark.parametrize(
    ("viewport", "scheme", "motion"),
    [("phone", "dark", "reduce"), ("desktop", "light", "no-preference")],
    ids=["phone-dark", "desktop-light"],
)
def test_charts_draw_without_csp_violations(live_server, charts_user, signed_in_page, viewport, scheme, motion):
    page = signed_in_page(charts_user, viewport, color_scheme=scheme, reduced_motion=motion, timeout=30_000)
    problems = page.problems

    response = page.goto(f"{live_server.url}/usage/")
    assert response.status == 200
    page.wait_for_selector(".charts.charts-ready")
    for chart_id in ("chart-tokens-day", "chart-cost-day", "chart-tokens-agent"):
        box = page.locator(f"#{chart_id}").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, chart_id
        assert page.evaluate(f"!!window.Chart.getChart('{chart_id}')"), chart_id
    # Nothing wider than the screen on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert problems == []
