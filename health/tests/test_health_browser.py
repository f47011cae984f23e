"""The health pages in a real Chromium at phone and desktop sizes: a dose confirmed in one click
from the overview, the adherence and measurement charts drawn, the time zone taken from the
browser on the settings page; no sideways scroll, no CSP problem or script error."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.tenancy import tenant
from health import services
from health.models import HealthMeasurement, MedicationLog
from health.tests.conftest import make_medication, midday_zone, set_zone
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_confirm_a_dose_and_see_the_charts(signed_in_page, viewport):
    user = make_user(f"health-{viewport}@example.com", name="Hana")
    now = timezone.now()
    zone = midday_zone(now)  # the dose 10 minutes ago is today in the owner's zone, at any hour
    set_zone(user, zone)
    dose = (now - timedelta(minutes=10)).astimezone(ZoneInfo(zone))
    med = make_medication(user, since=now - timedelta(days=3), name="Metformin", reminder_times=[dose.strftime("%H:%M")])
    with tenant(user.id):
        profile = services.profile_ensure(user)
        for i, bpm in enumerate((62, 70, 66)):
            HealthMeasurement.objects.create(health_profile=profile, user=user, type="HEART_RATE", value={"bpm": bpm},
                                             measured_at=now - timedelta(days=i))
    page = signed_in_page(user, viewport)
    page.goto("/health/")
    assert page.get_by_role("heading", name="Today's doses").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_role("button", name="Took it").click()
    page.wait_for_url("**/health/")
    assert page.locator(".dose-taken").first.inner_text() == "Taken"
    with tenant(user.id):
        assert list(MedicationLog.objects.filter(medication=med).values_list("status", flat=True)) == ["tomado"]

    page.goto("/health/medications/")
    page.wait_for_selector("[data-adherence-charts] canvas")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.goto("/health/measurements/")
    page.wait_for_selector("[data-measurement-charts] canvas")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # The quick entry shows only the inputs of the chosen kind.
    page.select_option("#id_type", "BLOOD_PRESSURE")
    assert page.locator("#id_systolic").is_visible() and not page.locator("#id_amount").is_visible()
    page.fill("#id_systolic", "118")
    page.fill("#id_diastolic", "76")
    page.get_by_role("button", name="Save the measurement").click()
    page.wait_for_selector("text=118/76 mmHg")
    assert page.problems == []


def test_settings_take_the_time_zone_from_the_browser(signed_in_page):
    user = make_user("zone@example.com")
    page = signed_in_page(user, "desktop", timezone_id="Asia/Tokyo")
    page.goto("/account/settings/")
    assert page.locator("#id_timezone").input_value() == "Asia/Tokyo"
    assert page.problems == []


def test_profile_height_inputs_follow_the_unit(signed_in_page):
    user = make_user("profile-units@example.com")
    page = signed_in_page(user, "phone")
    page.goto("/health/profile/")
    assert page.locator("#id_height").is_visible() and not page.locator("#id_height_feet").is_visible()
    page.select_option("#id_height_unit", "ft_in")
    assert page.locator("#id_height_feet").is_visible() and not page.locator("#id_height").is_visible()
    page.fill("#id_height_feet", "5")
    page.fill("#id_height_inches", "7")
    page.get_by_role("button", name="Save the profile").click()
    page.wait_for_selector("text=Your health profile was saved.")
    with tenant(user.id):
        from health.models import HealthProfile

        assert str(HealthProfile.objects.get(user=user).height) == "170.2"
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []
