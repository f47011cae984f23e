"""The measurements page at any size: the charts of the chosen period computed in PostgreSQL (the
same figures as the table), one page of the table newest first, a constant number of queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.tenancy import tenant
from health import measurements, selectors, services
from health.models import HealthMeasurement

pytestmark = pytest.mark.django_db

VALUES = [
    ("WEIGHT", {"kg": 69.99}), ("WEIGHT", {"kg": 70.04}), ("BLOOD_PRESSURE", {"systolic": 121, "diastolic": 79}),
    ("GLUCOSE", {"mg_dl": 99.1, "unit": "mmol/L", "context": "fasting"}), ("GLUCOSE", {"mg_dl": 140.5, "unit": "mg/dL"}),
    ("HEART_RATE", {"bpm": 64}), ("TEMPERATURE", {"celsius": 37.0}), ("TEMPERATURE", {"celsius": 36.55}),
    ("OXYGEN", {"percent": 97}), ("OTHER", {"label": "Steps", "amount": 8000.5, "unit": "steps"}),
]
ODD = [("WEIGHT", {"kg": "heavy"}), ("BLOOD_PRESSURE", {"systolic": 120}), ("HEART_RATE", {}), ("OXYGEN", [1, 2])]


def _add(user, rows, *, start=None, step=timedelta(hours=1)):
    start = start or timezone.now() - timedelta(days=1)
    with tenant(user.id):
        profile = services.profile_ensure(user)
        HealthMeasurement.objects.bulk_create([
            HealthMeasurement(health_profile=profile, user=user, type=kind, value=value, measured_at=start + n * step)
            for n, (kind, value) in enumerate(rows)
        ])


def _charts(page: str) -> dict:
    found = re.search(r'<script id="measurement-charts" type="application/json">(.*?)</script>', page, re.S)
    return {chart["type"]: chart for chart in json.loads(found.group(1))} if found else {}


@pytest.mark.parametrize("profile_units", [
    {"weight": "kg", "height": "cm", "temperature": "C", "glucose": "mg/dL"},
    {"weight": "lb", "height": "cm", "temperature": "F", "glucose": "mmol/L"},
])
def test_chart_figures_are_the_table_figures_in_my_units(owner, owner_client, profile_units):
    with tenant(owner.id):
        services.profile_update(owner, weight_unit=profile_units["weight"], temperature_unit=profile_units["temperature"],
                                glucose_unit=profile_units["glucose"])
    _add(owner, VALUES + ODD)
    charts = _charts(owner_client.get("/health/measurements/").content.decode())
    expected: dict = {}
    for kind, value in VALUES:
        shown = measurements.show(kind, value, profile_units)
        expected.setdefault(kind, []).append((shown.number, shown.second))
    assert {kind: list(zip(c["points"]["y"], c["points"]["y2"])) for kind, c in charts.items()} == expected  # odd shapes left out
    assert list(charts) == ["WEIGHT", "BLOOD_PRESSURE", "GLUCOSE", "HEART_RATE", "TEMPERATURE", "OXYGEN", "OTHER"]
    assert charts["WEIGHT"]["label"] == "Weight" and charts["HEART_RATE"]["band"] == [60.0, 100.0]
    t = charts["WEIGHT"]["points"]["t"]
    assert t == sorted(t) and abs(t[0] / 1000 - (timezone.now() - timedelta(days=1)).timestamp()) < 60


def test_the_chart_follows_the_period_and_the_table_keeps_everything(owner, owner_client):
    now = timezone.now()
    _add(owner, [("HEART_RATE", {"bpm": 50})], start=now - timedelta(days=200))
    _add(owner, [("HEART_RATE", {"bpm": 60})], start=now - timedelta(days=60))
    _add(owner, [("HEART_RATE", {"bpm": 70})], start=now - timedelta(days=1))
    seen = {}
    for period in ("30", "90", "365", "all", "", "nonsense"):
        page = owner_client.get(f"/health/measurements/?period={period}").content.decode()
        seen[period] = _charts(page).get("HEART_RATE", {}).get("points", {}).get("y")
        assert "50 bpm" in page and "60 bpm" in page and "70 bpm" in page  # the table is not cut by the period
    assert seen == {"30": [70], "90": [60, 70], "365": [50, 60, 70], "all": [50, 60, 70], "": [50, 60, 70], "nonsense": [50, 60, 70]}
    page = owner_client.get("/health/measurements/?period=30&type=WEIGHT").content.decode()
    assert "No measurements of this kind yet." in page and 'aria-current="true">30 days' in page
    assert 'href="?type=WEIGHT&amp;period=90"' in page  # the period links keep the kind shown


def test_past_the_cap_the_chart_shows_means_of_equal_slices(owner):
    _add(owner, [("HEART_RATE", {"bpm": 60 + n % 2 * 10}) for n in range(200)], step=timedelta(minutes=5))
    units = selectors.units_of(None)
    with tenant(owner.id):
        raw = selectors.measurement_series(owner, units, cap=500)["HEART_RATE"]
        sliced = selectors.measurement_series(owner, units, cap=20)["HEART_RATE"]
    assert len(raw["y"]) == 200 and set(raw["y"]) == {60, 70}
    assert 20 <= len(sliced["y"]) <= 21 and all(64 <= y <= 66 for y in sliced["y"][:-1])  # ten readings each: 60 and 70 alike
    assert sliced["t"] == sorted(sliced["t"]) and sliced["t"][0] == raw["t"][0]


def test_the_table_is_paged_newest_first(owner, owner_client):
    _add(owner, [("HEART_RATE", {"bpm": 30 + n}) for n in range(120)], start=timezone.now() - timedelta(days=10))
    first = owner_client.get("/health/measurements/").content.decode()
    cells = re.findall(r'data-label="Value">(\d+) bpm<', first)
    assert cells == [str(149 - n) for n in range(50)]
    assert "Page 1 of 3" in first and 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    last = owner_client.get("/health/measurements/?type=HEART_RATE&period=30&page=3").content.decode()
    assert re.findall(r'data-label="Value">(\d+) bpm<', last) == [str(49 - n) for n in range(20)]
    assert "Page 3 of 3" in last and 'href="?type=HEART_RATE&amp;period=30&amp;page=2" rel="prev"' in last
    for page in ("0", "-1", "x", "99999999999999", "%00"):
        assert owner_client.get(f"/health/measurements/?page={page}").status_code == 200
    # Each row deletes its own measurement.
    with tenant(owner.id):
        newest = HealthMeasurement.objects.order_by("-measured_at").first()
    assert f'action="/health/measurements/{newest.pk}/delete/"' in first
    assert owner_client.post(f"/health/measurements/{newest.pk}/delete/").status_code == 302
    with tenant(owner.id):
        assert not HealthMeasurement.objects.filter(pk=newest.pk).exists() and HealthMeasurement.objects.count() == 119


def test_the_page_runs_the_same_queries_for_a_few_and_many_years_of_readings(owner, owner_client):
    _add(owner, VALUES)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get("/health/measurements/").status_code == 200
    _add(owner, [VALUES[n % len(VALUES)] for n in range(3000)], start=timezone.now() - timedelta(days=1000), step=timedelta(hours=8))
    for path in ("/health/measurements/", "/health/measurements/?period=all&page=7", "/health/measurements/?type=WEIGHT&period=30"):
        with CaptureQueriesContext(connection) as large:
            response = owner_client.get(path)
        assert response.status_code == 200
        assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
        charts = _charts(response.content.decode())
        assert charts and all(len(c["points"]["y"]) <= selectors.CHART_POINTS + 1 for c in charts.values())
        assert len(re.findall(r"<tr>", response.content.decode())) == 51  # the header and one page


def test_a_bad_entry_keeps_what_was_typed_and_the_page(owner, owner_client):
    _add(owner, VALUES)
    response = owner_client.post("/health/measurements/", {"type": "HEART_RATE", "amount": "900"})
    page = response.content.decode()
    assert response.status_code == 400 and "is not plausible" in page and 'value="900"' in page
    assert "64 bpm" in page and _charts(page)
    fresh = owner_client.get("/health/measurements/").content.decode()
    assert 'value="900"' not in fresh and "is not plausible" not in fresh


# The table's rows as the template wrote them before they moved to health/rows.py.
_ROWS_TEMPLATE = """{% load i18n %}{% translate "Measured" as l_measured %}{% translate "Kind" as l_kind %}{% translate "Value" as l_value %}{% translate "Delete this measurement?" as l_confirm %}{% translate "Delete" as l_delete %}
      {% for m in rows %}
        <tr>
          <td data-label="{{ l_measured }}"><time datetime="{{ m.iso }}">{{ m.when }}</time></td>
          <td data-label="{{ l_kind }}">{{ m.kind }}</td>
          <td data-label="{{ l_value }}">{{ m.text }}</td>
          <td class="actions"><form method="post" action="{{ m.delete_url }}" class="inline" data-confirm="{{ l_confirm }}"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}"><button type="submit" class="button small secondary">{{ l_delete }}</button></form></td>
        </tr>
      {% endfor %}
      """


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_rows_are_byte_for_byte_what_the_template_wrote(owner, owner_client, language):
    from django.template import engines
    from django.urls import reverse
    from django.utils import dateformat, translation
    from django.utils.formats import get_format

    from health.models import HealthMeasurement as M

    from .conftest import set_zone

    set_zone(owner, "Europe/Madrid")
    _add(owner, VALUES + ODD + [("OTHER", {"label": "<b>Steps & co</b>", "amount": 1, "unit": '"x"'})], step=timedelta(hours=7))
    page = owner_client.get("/health/measurements/?page=1", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert body.count(f'value="{token}"') == len(VALUES + ODD) + 1  # the page's one token in every row
    with tenant(owner.id), translation.override(language), timezone.override("Europe/Madrid"):
        labels = {k: str(v) for k, v in M._meta.get_field("type").choices}
        units = selectors.units_of(selectors.profile_get(owner))
        rows = []
        for m in selectors.measurements_list(owner)[:50]:
            local = timezone.localtime(m.measured_at)
            rows.append({"iso": local.isoformat(), "when": dateformat.format(local, get_format("SHORT_DATETIME_FORMAT")),
                         "kind": labels.get(m.type, m.type), "text": measurements.show(m.type, m.value, units).text,
                         "delete_url": reverse("health:measurement_delete", args=[m.pk])})
        expected = engines["django"].from_string(_ROWS_TEMPLATE).render({"rows": rows, "csrf_token": token})
    assert "&lt;b&gt;Steps &amp; co&lt;/b&gt;" in body and body == "\n" + expected.split("\n", 1)[1]  # after the labels' line


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_rows_datetime_formatter_writes_what_dateformat_writes(language):
    import zoneinfo
    from datetime import datetime

    from django.utils import dateformat, translation
    from django.utils.formats import get_format

    from health.rows import datetime_formatter

    madrid, kolkata = zoneinfo.ZoneInfo("Europe/Madrid"), zoneinfo.ZoneInfo("Asia/Kolkata")
    values = [datetime(2026, 3, 29, 1, 30, tzinfo=madrid), datetime(2026, 10, 25, 2, 30, tzinfo=madrid),  # around DST changes
              datetime(2026, 1, 1, 0, 0, tzinfo=madrid), datetime(2026, 7, 4, 12, 0, tzinfo=kolkata), datetime(2026, 12, 31, 23, 59, 59, 5, tzinfo=madrid)]
    with translation.override(language):
        for fmt in (get_format("SHORT_DATETIME_FORMAT"), get_format("DATETIME_FORMAT"), "aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ", r"\d\a\y j, \Y"):
            formatter = datetime_formatter(fmt)
            assert [formatter(v) for v in values] == [dateformat.format(v, fmt) for v in values], fmt


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_tabs_kept_per_page_are_the_tabs_the_template_wrote(owner_client, language):
    from django.template import engines
    from django.test import RequestFactory
    from django.utils import translation

    old = "{% load i18n %}" + "".join(f"{line}\n" for line in (
        '<nav class="health-tabs" aria-label="{% translate \'Health sections\' %}">', "  <ul>",
        *(f'    {{% url \'health:{name}\' as u %}}<li><a href="{{{{ u }}}}"{{% if {test} %}} aria-current="page"{{% endif %}}>{{% translate "{label}" %}}</a></li>'
          for name, test, label in (("overview", "request.path == u", "Overview"), ("profile", "request.path == u", "Profile"),
                                    ("conditions", "u in request.path", "Conditions"), ("allergies", "u in request.path", "Allergies"),
                                    ("medications", "u in request.path", "Medications"), ("appointments", "u in request.path", "Appointments"),
                                    ("measurements", "u in request.path", "Measurements"), ("summary", "request.path == u", "Summary"))),
        "  </ul>")) + "</nav>"
    with translation.override(language):
        expected = engines["django"].from_string(old).render({"request": RequestFactory().get("/health/measurements/")})
    for _ in range(2):  # drawn, then kept
        page = owner_client.get("/health/measurements/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert '<nav class="health-tabs"' + page.split('<nav class="health-tabs"')[1].split("</nav>")[0] + "</nav>" == expected
    assert 'aria-current="page">' in expected
