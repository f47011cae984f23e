"""Support settings, read with their defaults (the lead lists them in config/settings.py).

    SUPPORT_REOPEN_DAYS        days after resolving/closing in which the user may reopen (7)
    SUPPORT_RESPONSE_HOURS     first-response target per priority, business hours
    SUPPORT_RESOLUTION_HOURS   resolution target per priority, business hours
    SUPPORT_WORKING_DAYS       ISO weekdays worked, Monday = 1 (1-5)
    SUPPORT_WORKING_HOURS      (start hour, end hour) of a working day (8, 18)
    SUPPORT_TIMEZONE           the zone business hours are counted in (settings.TIME_ZONE)
    SUPPORT_HOLIDAYS           ISO dates not worked (())
    SUPPORT_STAFF_EMAILS       who hears of new URGENT tickets and escalations when no one is
                               assigned (()): empty means every active SUPPORT/ADMIN/SUPER_ADMIN user
    SUPPORT_TRIAGE_MODEL       the model that drafts answers ("offline": rule-based, no model call)
    SUPPORT_MAX_ATTACHMENT_BYTES  per attachment (10 MB); SUPPORT_MAX_ATTACHMENTS per message (5)
    SUPPORT_ATTACHMENT_TYPES   sniffed types accepted as attachments
    SUPPORT_POLL_SECONDS       how often a ticket's page asks for new replies (10)
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_RESPONSE_HOURS = {"URGENT": 1, "HIGH": 4, "MEDIUM": 8, "LOW": 24}
DEFAULT_RESOLUTION_HOURS = {"URGENT": 8, "HIGH": 24, "MEDIUM": 40, "LOW": 80}
DEFAULT_ATTACHMENT_TYPES = (
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
    "application/json", "application/zip",
)


def reopen_days() -> int:
    return int(getattr(settings, "SUPPORT_REOPEN_DAYS", 7))


def response_hours() -> dict[str, float]:
    return {**DEFAULT_RESPONSE_HOURS, **getattr(settings, "SUPPORT_RESPONSE_HOURS", {})}


def resolution_hours() -> dict[str, float]:
    return {**DEFAULT_RESOLUTION_HOURS, **getattr(settings, "SUPPORT_RESOLUTION_HOURS", {})}


def working_days() -> frozenset[int]:
    return frozenset(getattr(settings, "SUPPORT_WORKING_DAYS", (1, 2, 3, 4, 5)))


def working_hours() -> tuple[int, int]:
    start, end = getattr(settings, "SUPPORT_WORKING_HOURS", (8, 18))
    return int(start), int(end)


def timezone_name() -> str:
    return getattr(settings, "SUPPORT_TIMEZONE", "") or settings.TIME_ZONE


def holidays() -> frozenset[str]:
    return frozenset(str(d) for d in getattr(settings, "SUPPORT_HOLIDAYS", ()))


def staff_emails() -> tuple[str, ...]:
    return tuple(getattr(settings, "SUPPORT_STAFF_EMAILS", ()))


def triage_model() -> str:
    return getattr(settings, "SUPPORT_TRIAGE_MODEL", "offline")


def max_attachment_bytes() -> int:
    return int(getattr(settings, "SUPPORT_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def max_attachments() -> int:
    return int(getattr(settings, "SUPPORT_MAX_ATTACHMENTS", 5))


def attachment_types() -> frozenset[str]:
    return frozenset(getattr(settings, "SUPPORT_ATTACHMENT_TYPES", DEFAULT_ATTACHMENT_TYPES))


def poll_seconds() -> float:
    return float(getattr(settings, "SUPPORT_POLL_SECONDS", 10))
