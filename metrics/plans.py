"""What each plan allows and the calendar it is counted in: pure facts, no database.

Months are UTC months, as in the rollup trigger (metrics migration 0002). ``None`` as a limit
means unlimited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from accounts.models import SubscriptionTier, User

# --- months -----------------------------------------------------------------------------------------


def utc_month(moment: dt.datetime | None = None) -> tuple[int, int]:
    """(year, month) of ``moment`` (default: now) in UTC, the calendar the rollup trigger uses."""
    moment = (moment or timezone.now()).astimezone(dt.timezone.utc)
    return moment.year, moment.month


def month_start(year: int, month: int) -> dt.datetime:
    """The first instant of a UTC month."""
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def limit_resets_on(year: int, month: int) -> dt.date:
    """The day a month's limits reset: the first day of the next UTC month."""
    return dt.date(*next_month(year, month), 1)


# --- limits -----------------------------------------------------------------------------------------


def limits_for(user: User) -> tuple[int | None, int | None]:
    """Monthly (messages, tokens) limits of the user's plan; ``None`` means unlimited."""
    limits = settings.TIER_LIMITS.get(user.subscription_tier) or {}
    return limits.get("messages"), limits.get("tokens")


def reached(used: int, limit: int | None, percent: int = 100) -> bool:
    """Whether ``used`` is at least ``percent`` % of ``limit`` (integer arithmetic: no rounding)."""
    return limit is not None and used * 100 >= percent * limit


def plan_label(tier: str) -> str:
    """The plan's name as people read it, in the active language."""
    return str(SubscriptionTier(tier).label) if tier in SubscriptionTier.values else tier
