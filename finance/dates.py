"""Calendar rules: months added with the day clamped, periods of budgets, occurrences of recurring payments.

The month-end rule (documented in docs/decisions.md): the day of the month always comes from the
start date, clamped to each month's length — a payment starting 31 January falls on 28 February
(29 in leap years), then 31 March, 30 April, 31 May; it never drifts to the 28th.
"""

from __future__ import annotations

import calendar
import datetime as dt

MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}
DAYS = {"WEEKLY": 7, "BIWEEKLY": 14}


def add_months(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from start to end (15 Jan → 15 Mar is 2)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def occurrence(start: dt.date, frequency: str, k: int) -> dt.date:
    """The k-th occurrence (0 = the start) of a schedule."""
    if frequency in DAYS:
        return start + dt.timedelta(days=DAYS[frequency] * k)
    return add_months(start, MONTHS[frequency] * k)


def occurrence_after(start: dt.date, frequency: str, day: dt.date) -> dt.date:
    """The first occurrence strictly after ``day``."""
    if day < start:
        return start
    if frequency in DAYS:
        k = (day - start).days // DAYS[frequency] + 1
    else:
        k = max(0, months_between(start, day) // MONTHS[frequency] - 1)
        while occurrence(start, frequency, k) <= day:
            k += 1
    return occurrence(start, frequency, k)


def period_bounds(period: str, start: dt.date, day: dt.date) -> tuple[dt.date, dt.date]:
    """The budget period holding ``day``: [first day, first day of the next), anchored on ``start``."""
    if period == "WEEKLY":
        k = (day - start).days // 7
        first = start + dt.timedelta(days=7 * k)
        return first, first + dt.timedelta(days=7)
    step = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}[period]
    k = months_between(start, day) // step
    first = add_months(start, step * k)
    if first > day:
        k -= 1
        first = add_months(start, step * k)
    return first, add_months(start, step * (k + 1))
