"""Settings of the health app, read with their defaults (the lead lists them in config/settings.py)."""

from __future__ import annotations

from django.conf import settings


def dose_grace_minutes() -> int:
    """After a dose's time, how long a confirmation still counts as on time; then it is missed."""
    return int(getattr(settings, "HEALTH_DOSE_GRACE_MINUTES", 60))


def reminder_max_delay_minutes() -> int:
    """A reminder the job could not send within this many minutes of the dose is dropped, not sent late."""
    return int(getattr(settings, "HEALTH_REMINDER_MAX_DELAY_MINUTES", 30))


def appointment_reminder_hours() -> int:
    """How long before an appointment its reminder email goes out."""
    return int(getattr(settings, "HEALTH_APPOINTMENT_REMINDER_HOURS", 24))


def reminder_from_email() -> str:
    return getattr(settings, "HEALTH_REMINDER_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def measurements_page_size() -> int:
    """Rows of the measurements table per page (newest first; the CSV carries everything)."""
    return int(getattr(settings, "HEALTH_MEASUREMENTS_PAGE_SIZE", 50))
