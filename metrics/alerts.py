"""Usage alerts: the rows a turn raises at 80/90/100 % of a limit, and the e-mail for each.

``alerts_create`` runs inside the usage log's transaction (``metrics.services.usage_record_turn``),
which enqueues one ``metrics.tasks.send_usage_alert_email`` per new alert on commit; the task calls
``usage_alert_notify``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from accounts.models import UserSettings
from core.tenancy import tenant

from .models import ALERT_TYPE_TO_KIND, KIND_MESSAGES, KIND_TOKENS, MonthlyUsage, UsageAlert
from .plans import limit_resets_on, limits_for, plan_label

logger = logging.getLogger(__name__)

# How long a sent alert email is remembered, so a redelivered task does not send it twice.
ALERT_EMAIL_SENT_TTL = 45 * 24 * 3600

# Exactly once per (user, type, threshold, year, month), whatever the concurrency: the unique
# constraint decides, and RETURNING names only the rows this statement created.
_ALERTS_INSERT_SQL = """
INSERT INTO usage_alerts (id, user_id, type, threshold, triggered, year, month, created_at)
VALUES {values}
ON CONFLICT (user_id, type, threshold, year, month) DO NOTHING
RETURNING id
"""
_ALERT_VALUES_SQL = "(gen_random_uuid(), %s, %s, %s, true, %s, %s, now())"


def alerts_create(*, user_id: uuid.UUID, year: int, month: int, reached: list[tuple[str, int]]) -> list[uuid.UUID]:
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
        "plan": plan_label(facts.tier),
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
    return alert_email_once(
        f"metrics:usage-alert-email:{alert_id}", language=facts.language, recipient=facts.email,
        compose=partial(_alert_email, facts),
    )


def alert_email_once(sent_key: str, *, language: str, recipient: str, compose: Callable[[], tuple[str, str]]) -> bool:
    """Send one alert's email at most once (shared by the usage and finance alerts).

    The alert row is made exactly once by its unique key; this makes its email once too: a cache key
    taken before sending turns a redelivered task into a no-op, and is released if sending fails.
    ``compose`` returns (subject, body) and runs in ``language``.
    """
    if not cache.add(sent_key, 1, timeout=ALERT_EMAIL_SENT_TTL):
        logger.info("alert email %s already sent", sent_key)
        return False
    try:
        with translation.override(language):
            subject, body = compose()
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])
    except Exception:
        cache.delete(sent_key)
        raise
    return True
