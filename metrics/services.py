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
from .limits import run_statements
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
    acts for ``user``: the rows are written in it, with no savepoint of their own (three round
    trips per turn). ``TurnRecord`` does the same within a caller's own statements.
    """
    record = TurnRecord(user=user, agent=agent, conversation=conversation, model=model, tokens_input=tokens_input,
                        tokens_output=tokens_output, duration_ms=duration_ms, success=success, timestamp=timestamp)
    with nullcontext() if in_context else tenant(user.id):
        return record.finish(run_statements(record.statements)[-1])


class TurnRecord:
    """``usage_record_turn`` in two steps, for a caller that sends the usage log's statements with
    its own in one round trip (``chats.services.reply_save``, with the answer's): ``statements``
    (the log's INSERT, the month's UPDATE), to run in that order in a transaction acting for the
    user; then ``finish`` with the last one's rows (the month's totals, this turn included),
    which raises the alerts they reach and returns the log."""

    def __init__(self, *, user: User, agent, conversation, model: str, tokens_input: int, tokens_output: int,
                 duration_ms: int, success: bool, timestamp: dt.datetime | None = None):
        if min(tokens_input, tokens_output, duration_ms) < 0:
            raise ValueError("token counts and duration must not be negative")
        timestamp = timestamp or timezone.now()
        info = get_model(model)
        cost_input, cost_output = info.cost(tokens_input, tokens_output) if info else (Decimal(0), Decimal(0))
        self.user = user
        self.year, self.month = utc_month(timestamp)
        self.limits = limits_for(user)
        self.log = UsageLog(
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
        # The INSERT fires the rollup trigger; the UPDATE, a statement after it, sees its totals.
        self.statements = [insert_statement(self.log), connection.ops.compose_sql(_MONTH_LIMITS_SQL, {
            "limit_messages": self.limits[0], "limit_tokens": self.limits[1], "user_id": user.id,
            "year": self.year, "month": self.month,
        })]

    def finish(self, month_rows: list[tuple]) -> UsageLog:
        log, user = self.log, self.user
        log._state.adding, log._state.db = False, connection.alias
        totals = month_rows[0] if month_rows else (0, 0)
        limit_messages, limit_tokens = self.limits
        crossed = [
            (alert_type, threshold)
            for alert_type, used, limit in ((AlertType.MESSAGES, totals[0], limit_messages), (AlertType.TOKENS, totals[1], limit_tokens))
            for threshold in settings.USAGE_ALERT_THRESHOLDS
            if reached(used, limit, threshold)
        ]
        for alert_id in alerts_create(user_id=user.id, year=self.year, month=self.month, reached=crossed):
            # Registered inside the (sub)transaction: if it rolls back, no email.
            transaction.on_commit(partial(_enqueue_alert_email, user.id, alert_id), robust=True)
        return log


def insert_statement(instance) -> str:
    """The ORM's INSERT of ``instance`` (every concrete field, its defaults and ``pre_save`` applied),
    its parameters bound: to send with other statements in one round trip. No RETURNING: every
    value is known here (a field left to its database default would not be read back)."""
    from django.db.models.sql import InsertQuery  # noqa: PLC0415

    fields = [f for f in instance._meta.local_concrete_fields if not f.generated]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return connection.ops.compose_sql(sql, params)


def _enqueue_alert_email(user_id: uuid.UUID, alert_id: uuid.UUID) -> None:
    tasks.send_usage_alert_email.delay(str(user_id), str(alert_id))
