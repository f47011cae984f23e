"""Helpers of the health tests: a time zone on the account, medications with schedules."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest

from accounts.models import UserSettings
from core.tenancy import tenant
from health import services
from health.models import Medication


def midday_zone(now) -> str:
    """A fixed-offset zone where ``now`` falls near local noon, so that a dose "30 minutes ago" is
    today in the owner's zone whatever the hour the tests run at (Etc/GMT signs are inverted)."""
    offset = 12 - now.astimezone(dt_timezone.utc).hour  # -11 .. +12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def set_zone(user, zone: str) -> None:
    with tenant(user.id):
        UserSettings.objects.filter(user=user).update(timezone=zone)
    if hasattr(user, "_state") and "settings" in user._state.fields_cache:
        del user._state.fields_cache["settings"]


def make_medication(user, *, since: datetime, **values) -> Medication:
    """A medication whose tracking started at ``since`` (as if it had been entered then)."""
    defaults = {"name": "Metformin", "dosage": "500 mg", "frequency": "daily", "reminder_times": ["08:00"],
                "reminder_enabled": True, "is_active": True}
    defaults.update(values)
    with tenant(user.id):
        med = services.medication_save(user, None, **defaults)
        Medication.objects.filter(pk=med.pk).update(tracked_since=since, reminded_until=since)
        med.refresh_from_db()
    return med


@pytest.fixture
def madrid(owner):
    set_zone(owner, "Europe/Madrid")
    return owner
