"""Budget threshold alerts: the usage alerts' mechanism (metrics.alerts) applied to budgets.

Each threshold (the budget's ``alert_threshold`` and 100 %) alerts once per period: the row is
inserted with ON CONFLICT DO NOTHING on (budget, period start, threshold), and only the rows this
statement created are emailed, each at most once (``metrics.alerts.alert_email_once``). The banner on
the finance pages lists the alerts not dismissed. The callers (finance.tasks) enqueue the emails
of the ids returned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import UserSettings
from core.tenancy import tenant
from metrics.alerts import alert_email_once

from .models import Budget, FinanceAlert, FinancialProfile
from .selectors import budget_progress

_INSERT_SQL = """
INSERT INTO finance_alerts (id, financial_profile_id, user_id, kind, budget_id, period_start, threshold, dismissed, created_at)
VALUES (gen_random_uuid(), %s, %s, 'BUDGET', %s, %s, %s, false, now())
ON CONFLICT (budget_id, period_start, threshold) WHERE budget_id IS NOT NULL DO NOTHING
RETURNING id
"""
_DUE_SQL = """
INSERT INTO finance_alerts (id, financial_profile_id, user_id, kind, recurring_payment_id, period_start, threshold, dismissed, created_at)
VALUES (gen_random_uuid(), %s, %s, 'DUE', %s, %s, 0, false, now())
ON CONFLICT (recurring_payment_id, period_start) WHERE recurring_payment_id IS NOT NULL DO NOTHING
RETURNING id
"""


def thresholds_reached(percent: int, alert_threshold: int) -> list[int]:
    return sorted({t for t in (alert_threshold, 100) if percent >= t})


def check_user(user_id: uuid.UUID | str, *, today: dt.date | None = None) -> list[uuid.UUID]:
    """Raise the alerts of every active budget of the person; returns the ids created now."""
    created: list = []
    with tenant(user_id):
        profile = FinancialProfile.objects.filter(user_id=user_id).first()
        if profile is None:
            return []
        today = today or dt.date.today()
        budgets = Budget.objects.filter(financial_profile=profile, is_active=True, start_date__lte=today).select_related("account")
        with connection.cursor() as cursor:
            for budget in budgets:
                if budget.end_date and budget.end_date < today:
                    continue
                progress = budget_progress(budget, profile, today=today)
                for threshold in thresholds_reached(progress["percent"], budget.alert_threshold):
                    cursor.execute(_INSERT_SQL, [profile.pk, profile.user_id, budget.pk, progress["start"], threshold])
                    created += [row[0] for row in cursor.fetchall()]
    return created


def due_alert_create(recurring, day: dt.date) -> uuid.UUID | None:
    """A reminder for one occurrence of a recurring payment (once per occurrence); its id if new."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL, [recurring.financial_profile_id, recurring.user_id, recurring.pk, day])
        row = cursor.fetchone()
    return row[0] if row else None


def _compose(alert: FinanceAlert, name: str) -> tuple[str, str]:
    url = settings.SITE_URL.rstrip("/")
    if alert.kind == FinanceAlert.Kind.BUDGET:
        values = {"budget": alert.budget.name, "percent": alert.threshold,
                  "period": formats.date_format(alert.period_start, "DATE_FORMAT")}
        subject = _("Budget “%(budget)s”: %(percent)s %% spent") % values
        summary = _("You have spent %(percent)s %% of your budget “%(budget)s” for the period starting %(period)s.") % values
        url += reverse("finance:budgets")
    else:
        values = {"name": alert.recurring_payment.name, "date": formats.date_format(alert.period_start, "DATE_FORMAT")}
        subject = _("Payment due: %(name)s") % values
        summary = _("Your recurring payment “%(name)s” is due on %(date)s.") % values
        url += reverse("finance:recurring")
    lines = [_("Hello %(name)s,") % {"name": name} if name else _("Hello,"), "", summary, "", _("See your finances: %(url)s") % {"url": url}]
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "\n".join(lines) + "\n"


def alert_notify(*, user_id: uuid.UUID | str, alert_id: uuid.UUID | str) -> bool:
    """Email one alert in the person's language, at most once."""
    with tenant(user_id):
        alert = FinanceAlert.objects.select_related("user", "budget", "recurring_payment").filter(pk=alert_id, user_id=user_id).first()
        if alert is None or not alert.user.is_active:
            return False
        language = UserSettings.objects.filter(user_id=user_id).values_list("language", flat=True).first() or "en"
    user = alert.user
    return alert_email_once(
        f"finance:alert-email:{alert_id}", language=language, recipient=user.email, compose=partial(_compose, alert, user.get_short_name()),
    )
