"""The rows of the files list, rendered in Python (issue 15, item 2: pages at the speed limit).

In the template each of the 50 rows cost about 0.2 ms here (five translated cell labels, two URL
reversals, two date filters, a file size), about 10 ms of the page. Here the labels and the URL
prefixes are made once per page and each row is one ``str.format`` whose every value is escaped
(``core.rowhtml.format_row``), a few hundredths of a millisecond. The markup is the template's, cell for cell
(``templates/storage/list.html`` holds the table).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.template.defaultfilters import filesizeformat
from django.utils.dateformat import format as date_text
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_noop

from core.rowhtml import escape, fill_labels, format_row, url_around_id

from .selectors import FileRow

# The template's markup; the {l_…} labels are filled once per page, the rest for each row.
_ROW = (
    '\n<tr data-file-id="{id}">'
    '\n<td data-label="{l_name}" class="files-name"><a href="{url}">{name}</a>{folder}{unscanned}</td>'
    '\n<td data-label="{l_type}">{mime_type}</td>'
    '\n<td class="num" data-label="{l_size}">{size}</td>'
    '\n<td data-label="{l_added}"><time datetime="{created_iso}">{created}</time></td>'
    '\n<td class="files-actions"><a class="button small secondary" href="{download_url}">{l_download}'
    '<span class="visually-hidden"> {name}</span></a></td>'
    "\n</tr>"
)
_LABELS = {"l_name": gettext_noop("Name"), "l_type": gettext_noop("Type"), "l_size": gettext_noop("Size"), "l_added": gettext_noop("Added"), "l_download": gettext_noop("Download")}




def file_rows(files: Iterable[FileRow], *, search: str = "") -> SafeString:
    """The ``<tr>`` of each file of the list; with ``search``, each file's folder path is shown too
    (``selectors.file_page`` then reads it)."""
    row = fill_labels(_ROW, _LABELS)
    unscanned = mark_safe(f' <span class="badge files-unscanned" title="{escape(gettext("This file was stored without a virus scan."))}">'
                          f'{escape(gettext("Not scanned"))}</span>')
    (file_before, file_after), (download_before, download_after) = (
        url_around_id(name) for name in ("storage:file", "storage:download"))
    date_format = get_format("SHORT_DATE_FORMAT")
    dates: dict = {}
    out = []
    for pk, filename, mime_type, size, created_at, is_processed, folder_id, folder_path in files:
        created = localtime(created_at)
        day = created.date()
        if day not in dates:  # files added the same day share their text
            dates[day] = date_text(created, date_format)
        folder = ""
        if search and folder_id:
            folder = mark_safe(f' <small class="muted">{escape(folder_path)}</small>')
        out.append(format_row(
            row, id=pk, url=f"{file_before}{pk}{file_after}", name=filename, folder=folder,
            unscanned="" if is_processed else unscanned, mime_type=mime_type, size=filesizeformat(size),
            created_iso=created.isoformat(), created=dates[day], download_url=f"{download_before}{pk}{download_after}",
        ))
    return mark_safe("".join(out))
