"""The recurring-payments job: every due occurrence becomes a transaction (automatic debit) or a
reminder, exactly once, and ``next_due_date`` moves on by the month-end rule (finance.dates).

Two workers may run at once: each takes the due rows with ``FOR UPDATE SKIP LOCKED``, so a row is
processed by one of them, and a row that commits before the other looks is not due any more. The
unique keys (one transaction per recurring payment and date, one reminder per occurrence) make a
repeat harmless even if a lock were lost.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from core.tenancy import bypass, tenant

from . import budget_alerts
from .dates import occurrence_after
from .models import RecurringPayment, Transaction, TransactionType

logger = logging.getLogger(__name__)

# How many recurring rows one transaction handles before committing.
BATCH = 100


def _due_ids(today: dt.date) -> list[tuple]:
    with bypass("finance: find recurring payments that are due"):
        return list(
            RecurringPayment.objects.filter(is_active=True, next_due_date__lte=today).values_list("user_id", "id")[:10_000]
        )


def run_one(user_id, recurring_id, today: dt.date, *, alerts: list | None = None) -> int:
    """Catch one recurring payment up to today; returns the occurrences created (0 if another worker
    has it). New reminders' (user id, alert id) are appended to ``alerts``."""
    created = 0
    with tenant(user_id):
        row = (
            RecurringPayment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account").filter(pk=recurring_id, is_active=True, next_due_date__lte=today).first()
        )
        if row is None:
            return 0
        due = row.next_due_date
        dates = []
        while due <= today and (row.end_date is None or due <= row.end_date):
            dates.append(due)
            due = occurrence_after(row.start_date, row.frequency, due)
        if row.auto_debit and row.account_id:
            created = _debit(row, dates)
        else:
            for day in dates:
                alert_id = budget_alerts.due_alert_create(row, day)
                if alert_id is not None:
                    created += 1
                    if alerts is not None:
                        alerts.append((row.user_id, alert_id))
        row.next_due_date = due
        if row.end_date is not None and due > row.end_date:
            row.is_active = False
        row.save(update_fields=["next_due_date", "is_active"])
    return created


def _debit(row: RecurringPayment, dates: list[dt.date]) -> int:
    """One expense per date not debited yet, in one query to look and one to insert, however many
    occurrences a long pause left to catch up (a daily payment a year behind: 2 queries, not 1,100)."""
    done = set(Transaction.objects.filter(recurring_payment=row, date__in=dates).values_list("date", flat=True)) if dates else set()
    missing = [
        Transaction(
            recurring_payment=row, date=day, financial_profile_id=row.financial_profile_id, user_id=row.user_id,
            account=row.account, currency=row.account.currency, type=TransactionType.EXPENSE, amount=row.amount,
            description=row.name, category=row.category, is_recurring=True,
        )
        for day in dates if day not in done
    ]
    # The row is locked, so nothing else debits these dates meanwhile (the count relies on it);
    # the unique key stays the last word if a lock were ever lost: a date is skipped, not doubled.
    return len(Transaction.objects.bulk_create(missing, ignore_conflicts=True, batch_size=500)) if missing else 0


def run_due(today: dt.date | None = None, *, alerts: list | None = None, debited: set | None = None) -> int:
    """Every due recurring payment of every person. ``alerts`` collects the new reminders and
    ``debited`` the people whose balances changed (their budgets are checked next)."""
    today = today or timezone.localdate()
    total = 0
    for user_id, recurring_id in _due_ids(today):
        try:
            made = run_one(user_id, recurring_id, today, alerts=alerts)
        except Exception:  # one broken row must not stop the others
            logger.exception("recurring payment %s could not be processed", recurring_id)
            continue
        total += made
        if made and debited is not None:
            debited.add(user_id)
    return total
