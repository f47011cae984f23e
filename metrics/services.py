"""Metering: the limit check before a turn, the usage log after it, and the alerts it raises.

The chat service calls ``usage_check_before_turn`` before any provider call and
``usage_record_turn`` once per assistant turn (successful, failed or cancelled). Inserting a usage
log fires a trigger that rolls it up into ``users``, ``agents`` and ``monthly_usage``
(migration 0002), so the counters here are read, never added to. Months are UTC months, as in the
trigger.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import SubscriptionTier, User, UserSettings
from agents.registry import get_model
from core.tenancy import tenant

from .models import AlertType, MonthlyUsage, UsageAlert, UsageLog

logger = logging.getLogger(__name__)

KIND_MESSAGES = "messages"
KIND_TOKENS = "tokens"
ALERT_TYPE_TO_KIND = {AlertType.MESSAGES: KIND_MESSAGES, AlertType.TOKENS: KIND_TOKENS}

# How long a sent alert email is remembered, so a redelivered task does not send it twice.
ALERT_EMAIL_SENT_TTL = 45 * 24 * 3600


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


def _reached(used: int, limit: int | None, percent: int = 100) -> bool:
    """Whether ``used`` is at least ``percent`` % of ``limit`` (integer arithmetic: no rounding)."""
    return limit is not None and used * 100 >= percent * limit


class LimitExceeded(Exception):
    """The monthly limit is used up: the turn must not reach a provider.

    ``user_message`` is rendered when read, in the language active then (the request's).
    """

    def __init__(self, *, kind: str, used: int, limit: int, tier: str, year: int, month: int):
        self.kind = kind
        self.used = used
        self.limit = limit
        self.tier = tier
        self.resets_on = limit_resets_on(year, month)
        super().__init__(f"monthly {kind} limit reached: {used} of {limit}")

    @property
    def user_message(self) -> str:
        values = {
            "limit": formats.number_format(self.limit, force_grouping=True),
            "plan": _plan_label(self.tier),
            "date": formats.date_format(self.resets_on, "MONTH_DAY_FORMAT"),
        }
        if self.kind == KIND_TOKENS:
            return _(
                "You have used all %(limit)s tokens of your %(plan)s plan this month. "
                "The limit resets on %(date)s."
            ) % values
        return _(
            "You have used all %(limit)s messages of your %(plan)s plan this month. "
            "The limit resets on %(date)s."
        ) % values


def _plan_label(tier: str) -> str:
    return str(SubscriptionTier(tier).label) if tier in SubscriptionTier.values else tier


# --- before a turn ----------------------------------------------------------------------------------


def usage_check_before_turn(*, user: User) -> None:
    """Raise ``LimitExceeded`` when this month's messages or tokens are used up.

    When refusing, the month's row is marked ``exceeded_limit`` (with the limits that applied).
    That write happens in its own (sub)transaction, closed *before* the exception is raised, so it
    persists: committed at once in autocommit mode, and kept by the caller's transaction when the
    caller catches the exception (as a view that shows the message does).

    Deliberately not ``@transaction.atomic``: raising inside the atomic block would roll the flag back.
    """
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        return
    year, month = utc_month()
    refusal: LimitExceeded | None = None
    with tenant(user.id):
        row = (
            MonthlyUsage.objects.filter(user=user, year=year, month=month)
            .values("total_messages", "total_tokens", "exceeded_limit", "limit_messages", "limit_tokens")
            .first()
        )
        used_messages = row["total_messages"] if row else 0
        used_tokens = row["total_tokens"] if row else 0
        if _reached(used_messages, limit_messages):
            refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
        elif _reached(used_tokens, limit_tokens):
            refusal = LimitExceeded(kind=KIND_TOKENS, used=used_tokens, limit=limit_tokens, tier=user.subscription_tier, year=year, month=month)
        already_marked = row is not None and row["exceeded_limit"] and (row["limit_messages"], row["limit_tokens"]) == (limit_messages, limit_tokens)
        if refusal is not None and not already_marked:
            _mark_exceeded(user=user, year=year, month=month, limit_messages=limit_messages, limit_tokens=limit_tokens)
    if refusal is not None:
        raise refusal


def _mark_exceeded(*, user: User, year: int, month: int, limit_messages: int | None, limit_tokens: int | None) -> None:
    """Upsert the month's row with its limits and the flag (the row may not exist yet)."""
    MonthlyUsage.objects.bulk_create(
        [MonthlyUsage(user=user, year=year, month=month, limit_messages=limit_messages, limit_tokens=limit_tokens, exceeded_limit=True)],
        update_conflicts=True,
        unique_fields=["user", "year", "month"],
        update_fields=["limit_messages", "limit_tokens", "exceeded_limit"],
    )


# --- after a turn -----------------------------------------------------------------------------------

# The trigger has just updated (and locked) this row in the same transaction, so the totals
# returned include this turn and every turn committed before it.
_MONTH_LIMITS_SQL = """
UPDATE monthly_usage
   SET limit_messages = %(limit_messages)s,
       limit_tokens = %(limit_tokens)s,
       exceeded_limit = exceeded_limit
                        OR coalesce(total_messages >= %(limit_messages)s, false)
                        OR coalesce(total_tokens >= %(limit_tokens)s, false)
 WHERE user_id = %(user_id)s AND year = %(year)s AND month = %(month)s
RETURNING total_messages, total_tokens
"""

# Exactly once per (user, type, threshold, year, month), whatever the concurrency: the unique
# constraint decides, and RETURNING names only the rows this statement created.
_ALERTS_INSERT_SQL = """
INSERT INTO usage_alerts (id, user_id, type, threshold, triggered, year, month, created_at)
VALUES {values}
ON CONFLICT (user_id, type, threshold, year, month) DO NOTHING
RETURNING id
"""
_ALERT_VALUES_SQL = "(gen_random_uuid(), %s, %s, %s, true, %s, %s, now())"


def usage_record_turn(
    *,
    user: User,
    agent,
    conversation,
    model: str,
    tokens_input: int,
    tokens_output: int,
    duration_ms: int,
    success: bool,
    timestamp: dt.datetime | None = None,
) -> UsageLog:
    """Record one assistant turn and raise the month's alerts it reaches.

    Cost comes from the model registry (an unknown model costs 0). Each alert row created here is
    emailed once, after the transaction commits.
    """
    if min(tokens_input, tokens_output, duration_ms) < 0:
        raise ValueError("token counts and duration must not be negative")
    timestamp = timestamp or timezone.now()
    info = get_model(model)
    cost_input, cost_output = info.cost(tokens_input, tokens_output) if info else (Decimal(0), Decimal(0))
    year, month = utc_month(timestamp)
    limit_messages, limit_tokens = limits_for(user)
    with tenant(user.id):
        log = UsageLog.objects.create(
            user=user,
            agent=agent,
            conversation=conversation,
            model=model,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            total_tokens=tokens_input + tokens_output,
            cost_input=cost_input,
            cost_output=cost_output,
            total_cost=cost_input + cost_output,
            duration=duration_ms,
            success=success,
            timestamp=timestamp,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _MONTH_LIMITS_SQL,
                {"limit_messages": limit_messages, "limit_tokens": limit_tokens, "user_id": user.id, "year": year, "month": month},
            )
            totals = cursor.fetchone() or (0, 0)
        reached = [
            (alert_type, threshold)
            for alert_type, used, limit in ((AlertType.MESSAGES, totals[0], limit_messages), (AlertType.TOKENS, totals[1], limit_tokens))
            for threshold in settings.USAGE_ALERT_THRESHOLDS
            if _reached(used, limit, threshold)
        ]
        for alert_id in _alerts_create(user_id=user.id, year=year, month=month, reached=reached):
            # Registered inside the (sub)transaction: if it rolls back, no email.
            transaction.on_commit(partial(_enqueue_alert_email, user.id, alert_id), robust=True)
    return log


def _alerts_create(*, user_id: uuid.UUID, year: int, month: int, reached: list[tuple[str, int]]) -> list[uuid.UUID]:
    """Insert the alerts not recorded yet; the ids of those this call created."""
    if not reached:
        return []
    params: list = []
    for alert_type, threshold in reached:
        params += [user_id, str(alert_type), threshold, year, month]
    sql = _ALERTS_INSERT_SQL.format(values=", ".join([_ALERT_VALUES_SQL] * len(reached)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _enqueue_alert_email(user_id: uuid.UUID, alert_id: uuid.UUID) -> None:
    from .tasks import send_usage_alert_email  # tasks imports this module

    send_usage_alert_email.delay(str(user_id), str(alert_id))


# --- alert email ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AlertFacts:
    email: str
    name: str
    tier: str
    kind: str
    threshold: int
    used: int
    limit: int | None
    year: int
    month: int
    language: str


def _alert_facts(*, user_id: uuid.UUID | str, alert_id: uuid.UUID | str) -> _AlertFacts | None:
    with tenant(user_id):
        alert = UsageAlert.objects.select_related("user").filter(pk=alert_id, user_id=user_id).first()
        if alert is None or not alert.user.is_active:
            return None
        usage = (
            MonthlyUsage.objects.filter(user_id=user_id, year=alert.year, month=alert.month)
            .values("total_messages", "total_tokens", "limit_messages", "limit_tokens")
            .first()
        ) or {}
        language = UserSettings.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    user = alert.user
    kind = ALERT_TYPE_TO_KIND[alert.type]
    limit_messages, limit_tokens = limits_for(user)
    # The limits the month was metered against, else the plan's (the row may predate them).
    if kind == KIND_MESSAGES:
        used, limit = usage.get("total_messages", 0), usage.get("limit_messages")
        limit = limit_messages if limit is None else limit
    else:
        used, limit = usage.get("total_tokens", 0), usage.get("limit_tokens")
        limit = limit_tokens if limit is None else limit
    return _AlertFacts(
        email=user.email,
        name=user.get_short_name(),
        tier=user.subscription_tier,
        kind=kind,
        threshold=alert.threshold,
        used=used,
        limit=limit,
        year=alert.year,
        month=alert.month,
        language=language or "en",
    )


def _alert_email(facts: _AlertFacts) -> tuple[str, str]:
    """(subject, plain-text body) in the active language."""
    number = partial(formats.number_format, force_grouping=True)
    values = {
        "percent": facts.threshold,
        "plan": _plan_label(facts.tier),
        "period": formats.date_format(dt.date(facts.year, facts.month, 1), "YEAR_MONTH_FORMAT"),
        "used": number(facts.used),
        "limit": number(facts.limit) if facts.limit is not None else "—",
        "date": formats.date_format(limit_resets_on(facts.year, facts.month), "MONTH_DAY_FORMAT"),
    }
    if facts.kind == KIND_TOKENS:
        subject = _("You have used %(percent)s %% of your monthly tokens") % values
        summary = _("You have used %(percent)s %% of the tokens included in your %(plan)s plan for %(period)s (%(used)s of %(limit)s).") % values
    else:
        subject = _("You have used %(percent)s %% of your monthly messages") % values
        summary = _("You have used %(percent)s %% of the messages included in your %(plan)s plan for %(period)s (%(used)s of %(limit)s).") % values
    if facts.threshold >= 100:
        consequence = _("New messages are paused until the limit resets on %(date)s.") % values
    else:
        consequence = _("When you reach 100 %%, new messages are paused until the limit resets on %(date)s.") % values
    url = settings.SITE_URL.rstrip("/") + reverse("metrics:usage")
    lines = [
        _("Hello %(name)s,") % {"name": facts.name} if facts.name else _("Hello,"),
        "",
        summary,
        consequence,
        "",
        _("See your usage: %(url)s") % {"url": url},
    ]
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "\n".join(lines) + "\n"


def usage_alert_notify(*, user_id: uuid.UUID | str, alert_id: uuid.UUID | str) -> bool:
    """Email the user about one alert, in their language. Returns whether an email went out.

    At most once per alert: the alert table has no "sent" column, so a cache key taken before
    sending makes a redelivered task a no-op. The key is released if sending fails.
    """
    facts = _alert_facts(user_id=user_id, alert_id=alert_id)
    if facts is None:
        return False
    sent_key = f"metrics:usage-alert-email:{alert_id}"
    if not cache.add(sent_key, 1, timeout=ALERT_EMAIL_SENT_TTL):
        logger.info("usage alert %s: email already sent", alert_id)
        return False
    try:
        with translation.override(facts.language):
            subject, body = _alert_email(facts)
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[facts.email])
    except Exception:
        cache.delete(sent_key)
        raise
    return True
