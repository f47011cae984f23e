"""Reads of the metrics domain, always scoped to the user asking (RLS is the second wall).

Each selector runs a fixed number of queries whatever the amount of usage: aggregation happens
in PostgreSQL, and Python only fills in the days without usage.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from accounts.models import User
from agents.seeded_texts import shown
from chats.models import Message, MessageRole

from .models import ALERT_TYPE_TO_KIND, KIND_MESSAGES, KIND_TOKENS, AlertType, MonthlyUsage, UsageLog
from .plans import limit_resets_on, limits_for, month_start, next_month, utc_month

ZERO_COST = Decimal("0")


def _percent(used: int, limit: int | None) -> int | None:
    """Whole percent used (floored, so 79.9 % is not shown as 80 %); None when unlimited."""
    if limit is None:
        return None
    if limit <= 0:
        return 100
    return used * 100 // limit


# --- the banner -------------------------------------------------------------------------------------


# Written out rather than built with the ORM: it runs on every signed-in page, and compiling the
# queryset (two correlated subqueries) cost ten times what PostgreSQL takes to answer it. The
# (user, year, month) unique constraint on monthly_usage makes the join one row per alert.
_BANNER_SQL = """
SELECT a.type, a.threshold, m.total_messages, m.total_tokens
FROM usage_alerts a
LEFT JOIN monthly_usage m ON m.user_id = a.user_id AND m.year = a.year AND m.month = a.month
WHERE a.user_id = %s AND a.year = %s AND a.month = %s
"""


def usage_banner_for(user: User) -> dict | None:
    """The highest alert of the current month that still holds, for the banner on every page.

    One query: the month's alerts (at most six) with the month's totals alongside. An alert
    raised against an older, lower limit (before an upgrade) no longer holds and is skipped.
    Returns ``{"kind", "threshold", "used", "limit", "percent", "resets_on"}`` or None.
    """
    year, month = utc_month()
    with connection.cursor() as cursor:
        cursor.execute(_BANNER_SQL, [user.pk, year, month])
        rows = cursor.fetchall()
    limits = dict(zip((KIND_MESSAGES, KIND_TOKENS), limits_for(user)))
    best: dict | None = None
    for alert_type, threshold, used_messages, used_tokens in rows:
        kind = ALERT_TYPE_TO_KIND[alert_type]
        used = (used_messages if alert_type == AlertType.MESSAGES else used_tokens) or 0
        limit = limits[kind]
        percent = _percent(used, limit)
        if percent is None or percent < threshold:
            continue
        if best is None or (threshold, percent) > (best["threshold"], best["percent"]):
            best = {"kind": kind, "threshold": threshold, "used": used, "limit": limit, "percent": percent}
    if best is not None:
        best["resets_on"] = limit_resets_on(year, month)
    return best


# --- the Usage page ---------------------------------------------------------------------------------


def available_months(user: User) -> list[tuple[int, int]]:
    """(year, month) of the months with usage, newest first. One query."""
    return list(
        MonthlyUsage.objects.filter(user=user, total_messages__gt=0)
        .order_by("-year", "-month")
        .values_list("year", "month")
    )


def month_choices(months: list[tuple[int, int]], *, selected: tuple[int, int] | None) -> list[dict]:
    """Options for the month selector: the months with usage, the current month and the selected one."""
    current = utc_month()
    every = sorted({*months, current, *([selected] if selected else [])}, reverse=True)
    return [
        {"value": f"{y:04d}-{m:02d}", "date": dt.date(y, m, 1), "selected": (y, m) == selected}
        for y, m in every
    ]


def usage_for_month(*, user: User, year: int, month: int) -> dict:
    """Everything the Usage page shows for one UTC month, in three queries.

    The summary (used / limit) comes from ``monthly_usage``, the counters the limits are checked
    against; the series, per-agent totals and success counts come from ``usage_logs``.
    """
    start, end = month_start(year, month), month_start(*next_month(year, month))
    # usage_logs has only ``success`` (the ERD fixes its columns): a turn the person stopped is
    # told from a failed one by its answer, stored with the log's own time in the same
    # conversation (chats.services.reply_save) and marked ``cancelled``. A log whose answer is
    # gone (its conversation deleted) counts as failed.
    stopped_answer = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), timestamp=OuterRef("timestamp"),
        role=MessageRole.ASSISTANT, metadata__status="cancelled",
    )
    logs = UsageLog.objects.filter(user=user, timestamp__gte=start, timestamp__lt=end)
    money = DecimalField(max_digits=14, decimal_places=6)

    daily = {
        row["day"]: row
        for row in logs.annotate(day=TruncDate("timestamp", tzinfo=dt.timezone.utc), was_stopped=Exists(stopped_answer))
        .values("day")
        .annotate(
            messages=Count("id"),
            stopped=Count("id", filter=Q(success=False, was_stopped=True)),
            failed=Count("id", filter=Q(success=False, was_stopped=False)),
            tokens=Coalesce(Sum("total_tokens"), 0),
            cost=Coalesce(Sum("total_cost"), Value(ZERO_COST), output_field=money),
        )
        .order_by("day")
    }
    agents = list(
        logs.values("agent_id", name=F("agent__name"), slug=F("agent__slug"))
        .annotate(
            messages=Count("id"),
            tokens=Coalesce(Sum("total_tokens"), 0),
            cost=Coalesce(Sum("total_cost"), Value(ZERO_COST), output_field=money),
        )
        .order_by("-tokens", "-messages", "name")
    )
    for row in agents:  # a demo agent still as seeded is named in the reader's language
        row["name"] = shown(row.pop("slug"), "name", row["name"])
    # Every month's row at once (one per month, few): the selected one and the selector's list.
    month_rows = list(
        MonthlyUsage.objects.filter(user=user)
        .order_by("-year", "-month")
        .values("year", "month", "total_messages", "total_tokens", "total_cost", "limit_messages", "limit_tokens", "exceeded_limit")
    )

    days = []
    for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
        day = dt.date(year, month, day_number)
        row = daily.get(day)
        days.append({
            "date": day,
            "messages": row["messages"] if row else 0,
            "stopped": row["stopped"] if row else 0,
            "failed": row["failed"] if row else 0,
            "tokens": row["tokens"] if row else 0,
            "cost": row["cost"] if row else ZERO_COST,
        })
    turns = sum(d["messages"] for d in days)
    stopped = sum(d["stopped"] for d in days)
    failed = sum(d["failed"] for d in days)

    selected = next((r for r in month_rows if (r["year"], r["month"]) == (year, month)), None)
    is_current = (year, month) == utc_month()
    limit_messages, limit_tokens = limits_for(user)
    if selected is not None and not is_current:
        # A past month keeps the limits it was metered against; the plan may have changed since.
        limit_messages = selected["limit_messages"] if selected["limit_messages"] is not None else limit_messages
        limit_tokens = selected["limit_tokens"] if selected["limit_tokens"] is not None else limit_tokens
    used_messages = selected["total_messages"] if selected else 0
    used_tokens = selected["total_tokens"] if selected else 0
    months_with_usage = [(r["year"], r["month"]) for r in month_rows if r["total_messages"] > 0]

    return {
        "year": year,
        "month": month,
        "period": dt.date(year, month, 1),
        "is_current": is_current,
        "resets_on": limit_resets_on(year, month),
        "messages": _gauge(used_messages, limit_messages),
        "tokens": _gauge(used_tokens, limit_tokens),
        "cost": selected["total_cost"] if selected else ZERO_COST,
        "exceeded_limit": bool(selected and selected["exceeded_limit"]),
        # Complete, stopped by the person, failed (by the model, the network or a bug).
        "turns": {"total": turns, "succeeded": turns - stopped - failed, "stopped": stopped, "failed": failed},
        "days": days,
        "agents": agents,
        "available_months": months_with_usage,
        "months": month_choices(months_with_usage, selected=(year, month)),
    }


def _gauge(used: int, limit: int | None) -> dict:
    percent = _percent(used, limit)
    level = "" if percent is None or percent < 80 else ("danger" if percent >= 100 else "warning")
    return {
        "used": used,
        "limit": limit,
        "percent": percent,
        # What a progress bar can show: never past its end.
        "bar": min(used, limit) if limit is not None else None,
        "level": level,
    }
