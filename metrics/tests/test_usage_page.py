"""The Usage page and the usage banner: what the owner sees, and what nobody else does."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.tenancy import tenant
from metrics.models import MonthlyUsage, UsageLog
from metrics.plans import utc_month
from metrics.services import usage_record_turn
from testutils import factories

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc


def _this_month_day(day: int, hour: int = 12) -> dt.datetime:
    year, month = utc_month()
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


def _previous_month() -> tuple[int, int]:
    year, month = utc_month()
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _logs(user, conversation, specs):
    """Usage logs from (timestamp, tokens_in, tokens_out, cost, success) tuples, in bulk."""
    with tenant(user.id):
        UsageLog.objects.bulk_create([
            UsageLog(user=user, agent=conversation.agent, conversation=conversation, model="gpt-4o-mini",
                     tokens_input=tin, tokens_output=tout, total_tokens=tin + tout, total_cost=Decimal(cost),
                     success=success, timestamp=ts)
            for ts, tin, tout, cost, success in specs
        ])


def _chart_data(response) -> dict:
    match = re.search(r'<script id="usage-chart-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the chart data is embedded with json_script"
    return json.loads(match[1])


@pytest.fixture
def owner_usage(owner):
    """Two agents' turns on the 2nd and 5th of this month, one of them failed."""
    first = factories.make("conversations", owner)
    second = factories.make("conversations", owner)
    with tenant(owner.id):
        first.agent.name, second.agent.name = "Research helper", "Code reviewer"
        first.agent.save(update_fields=["name"])
        second.agent.save(update_fields=["name"])
    _logs(owner, first, [
        (_this_month_day(2), 100, 200, "0.0100", True),
        (_this_month_day(2, 23), 1000, 1000, "0.0200", True),
        (_this_month_day(5), 50, 50, "0.0050", False),
    ])
    _logs(owner, second, [(_this_month_day(5, 1), 10, 20, "0.0010", True)])
    return first, second


def test_owner_sees_their_numbers_and_chart_data(owner_client, owner_usage):
    response = owner_client.get("/usage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Usage</h1>" in html
    assert "2,430" in html  # tokens used this month
    assert "of 300 messages · 1 % used" in html  # 4 of 300
    assert "of 300,000 tokens · 0 % used" in html
    assert "0.0360" in html  # cost (USD)
    assert "Research helper" in html and "Code reviewer" in html
    assert 'max="300" value="4"' in html  # the messages progress bar
    assert "of 4 turns" in html  # failed turns: 1 of 4

    data = _chart_data(response)
    days = dict(zip(data["days"]["dates"], data["days"]["tokens"]))
    year, month = utc_month()
    assert len(days) == (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.date(year, month, 1)).days  # every day
    assert days[f"{year:04d}-{month:02d}-02"] == 2300
    assert days[f"{year:04d}-{month:02d}-05"] == 130
    assert days[f"{year:04d}-{month:02d}-01"] == 0
    costs = dict(zip(data["days"]["dates"], data["days"]["cost"]))
    assert costs[f"{year:04d}-{month:02d}-02"] == pytest.approx(0.03)
    assert dict(zip(data["agents"]["labels"], data["agents"]["tokens"])) == {"Research helper": 2400, "Code reviewer": 30}


def test_day_boundaries_are_utc(owner_client, owner):
    conversation = factories.make("conversations", owner)
    _logs(owner, conversation, [(_this_month_day(3, 23).replace(minute=59), 5, 5, "0", True), (_this_month_day(4, 0), 7, 7, "0", True)])
    data = _chart_data(owner_client.get("/usage/"))
    tokens = dict(zip(data["days"]["dates"], data["days"]["tokens"]))
    year, month = utc_month()
    assert (tokens[f"{year:04d}-{month:02d}-03"], tokens[f"{year:04d}-{month:02d}-04"]) == (10, 14)


def test_another_users_usage_never_appears(owner_client, owner_usage, other):
    conversation = factories.make("conversations", other)
    with tenant(other.id):
        conversation.agent.name = "Secret planner"
        conversation.agent.save(update_fields=["name"])
    _logs(other, conversation, [(_this_month_day(2), 90_000, 90_000, "9.5", True)])
    html = owner_client.get("/usage/").content.decode()
    assert "Secret planner" not in html
    assert "180,000" not in html and "9.5" not in html
    data = _chart_data(owner_client.get("/usage/"))
    assert sum(data["days"]["tokens"]) == 2430
    assert set(data["agents"]["labels"]) == {"Research helper", "Code reviewer"}


@pytest.mark.parametrize("value", ["2026-13", "abc", "2026-00", "26-11", "2026-1", "1999-12", "9999-01"])
def test_invalid_or_out_of_range_months_are_a_clear_400(owner_client, owner, value):
    with tenant(owner.id):
        before = MonthlyUsage.objects.count()
    response = owner_client.get("/usage/", {"month": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert ("is not a valid month. Write it as YYYY-MM" in html) or ("There is no usage to show for" in html)
    assert 'id="usage-chart-data"' not in html
    assert 'name="month"' in html  # the selector is still there to pick another month
    with tenant(owner.id):
        assert MonthlyUsage.objects.count() == before


def test_month_13_says_it_is_not_a_month(owner_client):
    html = owner_client.get("/usage/?month=2026-13").content.decode()
    assert "“2026-13” is not a valid month. Write it as YYYY-MM" in html


def test_an_earlier_month_with_data_can_be_selected(owner_client, owner, owner_usage):
    year, month = _previous_month()
    conversation = factories.make("conversations", owner)
    _logs(owner, conversation, [(dt.datetime(year, month, 15, tzinfo=UTC), 4000, 3000, "0.5", True)])
    value = f"{year:04d}-{month:02d}"

    current = owner_client.get("/usage/").content.decode()
    assert f'<option value="{value}">' in current  # offered by the selector

    response = owner_client.get("/usage/", {"month": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{value}" selected>' in html
    assert "7,000" in html
    data = _chart_data(response)
    assert sum(data["days"]["tokens"]) == 7000
    assert data["days"]["dates"][0] == f"{value}-01"


def test_a_month_without_usage_says_so(owner_client):
    year, month = _previous_month()
    response = owner_client.get("/usage/", {"month": f"{year:04d}-{month:02d}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No usage in" in html
    assert 'id="usage-chart-data"' not in html


def test_query_count_does_not_grow_with_the_data(owner, owner_client):
    conversation = factories.make("conversations", owner)
    other_agent_conversation = factories.make("conversations", owner)
    year, month = utc_month()

    def spread(count):
        return [(dt.datetime(year, month, 1 + i % 25, i % 24, tzinfo=UTC), 10, 5, "0.001", i % 7 != 0) for i in range(count)]

    _logs(owner, conversation, spread(5))
    _logs(owner, other_agent_conversation, spread(5))
    owner_client.get("/usage/")  # warm up: session, language
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get("/usage/").status_code == 200

    _logs(owner, conversation, spread(250))
    _logs(owner, other_agent_conversation, spread(240))
    with tenant(owner.id):
        assert UsageLog.objects.filter(user=owner).count() == 500
    with CaptureQueriesContext(connection) as large:
        response = owner_client.get("/usage/")
    assert response.status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert sum(_chart_data(response)["days"]["tokens"]) == 500 * 15


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/usage/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_charts_are_drawn_from_files_not_inline_script(owner_client, owner_usage):
    html = owner_client.get("/usage/").content.decode()
    assert "/static/vendor/chart.js/chart.umd.min.js" in html
    assert "/static/js/usage-charts.js" in html
    assert "/static/css/usage.css" in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert html.count("<details>") == 1 and html.count("<table") == 2  # each chart has its numbers


def test_static_files_exist():
    from django.contrib.staticfiles import finders

    for path in ("vendor/chart.js/chart.umd.min.js", "vendor/chart.js/LICENSE.md", "js/usage-charts.js", "css/usage.css"):
        assert finders.find(path), path


# --- the banner ---------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 10, "tokens": 1_000_000}}


def _turns(user, count):
    conversation = factories.make("conversations", user)
    for _ in range(count):
        usage_record_turn(user=user, agent=conversation.agent, conversation=conversation, model="offline",
                          tokens_input=5, tokens_output=5, duration_ms=10, success=True)


def test_no_banner_below_80_percent(owner_client, owner, small_limits):
    _turns(owner, 7)
    html = owner_client.get("/").content.decode()
    assert "usage-banner" not in html


def test_banner_on_other_pages_at_80_percent(owner_client, owner, small_limits):
    _turns(owner, 8)
    html = owner_client.get("/account/settings/").content.decode()
    assert "You have used 80 % of this month's messages (8 of 10)." in html
    banner = re.search(r'<div class="alert warning usage-banner" role="status">.*?</div>', html, re.S)
    assert banner and 'href="/usage/"' in banner[0]


def test_banner_at_100_percent_is_an_alert(owner_client, owner, small_limits):
    _turns(owner, 10)
    html = owner_client.get("/").content.decode()
    assert 'class="alert error usage-banner" role="alert"' in html
    assert "You have used all of this month's messages (10 of 10). New messages are paused until" in html


def test_banner_is_not_shown_to_others_or_anonymous_visitors(owner, other_client, client, small_limits):
    _turns(owner, 9)
    assert "usage-banner" not in other_client.get("/").content.decode()
    assert "usage-banner" not in client.get("/accounts/login/").content.decode()


def test_banner_costs_one_query(owner, owner_client, small_limits):
    _turns(owner, 9)
    owner_client.get("/account/settings/")
    with CaptureQueriesContext(connection) as with_banner:
        owner_client.get("/account/settings/")
    banner_queries = [q for q in with_banner.captured_queries if "usage_alerts" in q["sql"]]
    assert len(banner_queries) == 1


def test_banner_goes_away_after_an_upgrade(owner, owner_client, small_limits):
    _turns(owner, 9)
    owner.subscription_tier = "PRO"
    owner.save(update_fields=["subscription_tier"])
    assert "usage-banner" not in owner_client.get("/").content.decode()


def test_usage_page_shows_the_banner_without_linking_to_itself(owner_client, owner, small_limits):
    _turns(owner, 9)
    html = owner_client.get("/usage/").content.decode()
    banner = re.search(r'<div class="alert warning usage-banner".*?</div>', html, re.S)[0]
    assert "You have used 90 % of this month's messages (9 of 10)." in banner
    assert "href=" not in banner
    assert 'max="10" value="9"' in html and "usage-progress warning" in html


def test_the_page_is_in_spanish_for_spanish_speakers(owner_client, owner_usage):
    html = owner_client.get("/usage/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    year, month = utc_month()
    spanish_month = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                     "octubre", "noviembre", "diciembre"][month - 1]
    assert f"{spanish_month} de {year}" in html  # dates follow the active language
    assert "2\xa0430" in html and "0,0360" in html  # and so do numbers


def test_the_page_uses_the_current_utc_month_by_default(owner_client):
    year, month = utc_month()
    html = owner_client.get("/usage/").content.decode()
    assert f'<option value="{year:04d}-{month:02d}" selected>' in html
    assert timezone.now().strftime("%B") in html
