"""Metering writes: the usage log of each assistant turn, and the alerts it raises.

The chat calls ``metrics.limits`` before a turn and ``usage_record_turn`` once per assistant turn
(successful, failed or cancelled). Inserting a usage log fires a trigger that rolls it up into
``users``, ``agents`` and ``monthly_usage`` (migration 0002), so the counters here are read, never
added to. Months are UTC months, as in the trigger (``metrics.plans``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import nullcontext
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from agents.registry import get_model
from core.tenancy import tenant

from . import tasks
from .alerts import alerts_create
from .models import AlertType, UsageLog
from .plans import limits_for, reached, utc_month

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
    in_context: bool = False,
) -> UsageLog:
    """Record one assistant turn and raise the month's alerts it reaches.

    Cost comes from the model registry (an unknown model costs 0). Each alert row created here is
    emailed once, after the transaction commits. ``in_context``: the caller's transaction already
    acts for ``user`` (``chats.services.reply_save``, which stores the answer in it): the rows are
    written in it, with no savepoint of their own (three round trips per turn).
    """
    if min(tokens_input, tokens_output, duration_ms) < 0:
        raise ValueError("token counts and duration must not be negative")
    timestamp = timestamp or timezone.now()
    info = get_model(model)
    cost_input, cost_output = info.cost(tokens_input, tokens_output) if info else (Decimal(0), Decimal(0))
    year, month = utc_month(timestamp)
    limit_messages, limit_tokens = limits_for(user)
    with nullcontext() if in_context else tenant(user.id):
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
        crossed = [
            (alert_type, threshold)
            for alert_type, used, limit in ((AlertType.MESSAGES, totals[0], limit_messages), (AlertType.TOKENS, totals[1], limit_tokens))
            for threshold in settings.USAGE_ALERT_THRESHOLDS
            if reached(used, limit, threshold)
        ]
        for alert_id in alerts_create(user_id=user.id, year=year, month=month, reached=crossed):
            # Registered inside the (sub)transaction: if it rolls back, no email.
            transaction.on_commit(partial(_enqueue_alert_email, user.id, alert_id), robust=True)
    return log


def _enqueue_alert_email(user_id: uuid.UUID, alert_id: uuid.UUID) -> None:
    tasks.send_usage_alert_email.delay(str(user_id), str(alert_id))
