"""The staff metrics page: open tickets by status and priority, median first-response and
resolution times over the last 30 days, and how often staff accept the AI suggestion.

Three statements, whatever the number of tickets. Runs in the admin, under its audited bypass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .models import OPEN_STATUSES, Priority, TicketStatus

WINDOW_DAYS = 30

_OPEN_SQL = """
SELECT status, priority, count(*) FROM support_tickets WHERE status = ANY(%s) GROUP BY status, priority
"""
_TIMES_SQL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at))
           FILTER (WHERE first_response_at IS NOT NULL),
       count(*) FILTER (WHERE first_response_at IS NOT NULL),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))
           FILTER (WHERE resolved_at IS NOT NULL),
       count(*) FILTER (WHERE resolved_at IS NOT NULL)
  FROM support_tickets WHERE created_at >= %s
"""
_AI_SQL = """
SELECT count(*) FILTER (WHERE ai_suggestion <> ''),
       count(*) FILTER (WHERE ai_decision IN ('ACCEPTED', 'SENT')),
       count(*) FILTER (WHERE ai_decision <> ''),
       count(*) FILTER (WHERE ai_resolved)
  FROM support_tickets WHERE created_at >= %s
"""


@dataclass(frozen=True)
class Report:
    open_counts: dict[str, dict[str, int]]  # status -> priority -> count
    open_total: int
    median_first_response: dt.timedelta | None
    responded: int
    median_resolution: dt.timedelta | None
    resolved: int
    suggested: int
    accepted: int
    decided: int
    ai_resolved: int

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def rows(self) -> list[tuple[str, list[int], int]]:
        return [(str(TicketStatus(status).label), [self.open_counts.get(status, {}).get(p, 0) for p in Priority.values],
                 sum(self.open_counts.get(status, {}).values())) for status in OPEN_STATUSES]


def _seconds(value) -> dt.timedelta | None:
    return dt.timedelta(seconds=round(float(value))) if value is not None else None


def support_report(*, now=None) -> Report:
    since = (now or timezone.now()) - dt.timedelta(days=WINDOW_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_SQL, [list(OPEN_STATUSES)])
        counts: dict[str, dict[str, int]] = {}
        for status, priority, count in cursor.fetchall():
            counts.setdefault(status, {})[priority] = count
        cursor.execute(_TIMES_SQL, [since])
        first, responded, resolution, resolved = cursor.fetchone()
        cursor.execute(_AI_SQL, [since])
        suggested, accepted, decided, ai_resolved = cursor.fetchone()
    return Report(open_counts=counts, open_total=sum(sum(v.values()) for v in counts.values()),
                  median_first_response=_seconds(first), responded=responded, median_resolution=_seconds(resolution),
                  resolved=resolved, suggested=suggested, accepted=accepted, decided=decided, ai_resolved=ai_resolved)


def duration_text(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    hours, rest = divmod(int(value.total_seconds()), 3600)
    return f"{hours} h {rest // 60:02d} min"
