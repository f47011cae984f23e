"""The measurements table's rows written in Python (issue 15): one ``str.format`` per row with the
template's markup, the labels, the delete URL's prefix and the CSRF token made once per page, every
value escaped (a test compares the result with the template loop byte for byte)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.rowhtml import escape, url_around_id

from . import measurements

ROW = ('\n        <tr>\n          <td data-label="{measured}"><time datetime="{iso}">{when}</time></td>\n'
       '          <td data-label="{kind_label}">{kind}</td>\n          <td data-label="{value_label}">{text}</td>\n'
       '          <td class="actions"><form method="post" action="{delete_before}{id}{delete_after}" class="inline" data-confirm="{confirm}">'
       '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}"><button type="submit" class="button small secondary">{delete}</button>'
       "</form></td>\n        </tr>\n      ")


class _DateFormat(DateFormat):
    """Django's DateFormat, which works out the value's time zone only if a specifier asks for it
    (its constructor does it for every value: a third of a row's cost)."""

    def __init__(self, obj):
        self.data = obj

    @property
    def timezone(self):
        return DateFormat(self.data).timezone


def datetime_formatter(format_string: str):
    """``dateformat.format(value, format_string)`` for many datetimes: the format parsed once (the
    same pieces and the same DateFormat methods as ``Formatter.format``)."""
    pieces = []
    for i, piece in enumerate(re_formatchars.split(str(format_string))):
        if i % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, re_escaped.sub(r"\1", piece)))

    def fmt(value) -> str:
        df = _DateFormat(value)
        return "".join(str(getattr(df, piece)()) if spec else piece for spec, piece in pieces)

    return fmt


def measurement_rows(rows, labels: dict, profile_units: dict, csrf_token: str) -> str:
    """The table's ``<tr>`` for rows of ``selectors.measurements_page`` (in the active time zone).
    ``csrf_token`` is the page's (the template's ``csrf_token``, so every form carries the same one)."""
    if not rows:
        return ""
    delete_before, delete_after = url_around_id("health:measurement_delete")
    when = datetime_formatter(get_format("SHORT_DATETIME_FORMAT"))
    fixed = {"measured": escape(_("Measured")), "kind_label": escape(_("Kind")), "value_label": escape(_("Value")),
             "confirm": escape(_("Delete this measurement?")), "delete": escape(_("Delete")), "csrf": escape(csrf_token),
             "delete_before": delete_before, "delete_after": delete_after}
    kinds = {kind: escape(label) for kind, label in labels.items()}
    zone = timezone.get_current_timezone()
    out = []
    for pk, kind, value, measured_at in rows:
        local = timezone.localtime(measured_at, zone)
        out.append(ROW.format(iso=escape(local.isoformat()), when=escape(when(local)),
                              kind=kinds[kind] if kind in kinds else escape(kind),
                              text=escape(measurements.show(kind, value, profile_units).text), id=pk, **fixed))
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)
