from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.errors import UserFacingError
from core.params import query_text

from . import selectors
from .errors import InvalidMonth
from .plans import utc_month

MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")
EARLIEST_MONTH = (2000, 1)


def _parse_month(value: str) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month), from ``EARLIEST_MONTH`` up to the current UTC month."""
    match = MONTH_PATTERN.fullmatch(value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        current = utc_month()
        raise InvalidMonth(
            _("“%(value)s” is not a valid month. Write it as YYYY-MM, for example %(example)s.")
            % {"value": value, "example": f"{current[0]:04d}-{current[1]:02d}"}
        )
    year, month = int(match[1]), int(match[2])
    if not EARLIEST_MONTH <= (year, month) <= utc_month():
        raise InvalidMonth(
            _("There is no usage to show for %(value)s. Choose a month between %(first)s and %(last)s.")
            % {
                "value": value,
                "first": _month_label(*EARLIEST_MONTH),
                "last": _month_label(*utc_month()),
            }
        )
    return year, month


def _month_label(year: int, month: int) -> str:
    return formats.date_format(dt.date(year, month, 1), "YEAR_MONTH_FORMAT")


def _chart_data(usage: dict) -> dict:
    """What static/js/usage-charts.js draws; labels already translated and localised."""
    return {
        "days": {
            "labels": [formats.date_format(d["date"], "MONTH_DAY_FORMAT") for d in usage["days"]],
            "dates": [d["date"].isoformat() for d in usage["days"]],
            "tokens": [d["tokens"] for d in usage["days"]],
            "cost": [float(d["cost"]) for d in usage["days"]],
        },
        "agents": {
            "labels": [a["name"] for a in usage["agents"]],
            "tokens": [a["tokens"] for a in usage["agents"]],
        },
        "text": {"tokens": _("Tokens"), "cost": _("Cost (USD)")},
    }


@login_required
@require_GET
def usage_overview(request):
    """This month's usage against the plan's limits; ``?month=YYYY-MM`` for an earlier month."""
    raw = query_text(request, "month", max_length=20)  # the shared cleaner: no control characters
    if raw:
        try:
            year, month = _parse_month(raw)
        except UserFacingError as exc:
            months = selectors.month_choices(selectors.available_months(request.user), selected=None)
            return render(request, "metrics/usage.html", {"error": exc.message, "months": months}, status=400)
    else:
        year, month = utc_month()
    usage = selectors.usage_for_month(user=request.user, year=year, month=month)
    context = {"usage": usage, "months": usage["months"], "chart_data": _chart_data(usage) if usage["turns"]["total"] else None}
    return render(request, "metrics/usage.html", context)
