"""CSV and TSV: each row written as "column: value" pairs under a line naming the columns."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from ..errors import ExtractionError
from .base import ExtractedDocument, Limits
from .text import first_line, normalise


def extract_csv(text: str, name: str, limits: Limits, *, tab_separated: bool = False) -> ExtractedDocument:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if tab_separated else ","
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error:
        raise ExtractionError(_("This CSV file could not be read.")) from None
    rows = [row for row in rows if any(row)]
    if not rows:
        raise ExtractionError(_("The document is empty."))
    header, records = rows[0], rows[1:]
    width = max(len(row) for row in rows)
    columns = [cell or _("column %(number)s") % {"number": i + 1} for i, cell in enumerate(header)]
    columns += [_("column %(number)s") % {"number": i + 1} for i in range(len(columns), width)]
    lines = []
    # Each value is written with its column's name, so long names over many rows multiply: count.
    characters = 0
    for number, record in enumerate(records):
        pairs = [f"{columns[i]}: {value}" for i, value in enumerate(record) if value]
        if pairs:
            lines.append("; ".join(pairs))
            characters += len(lines[-1]) + 1
            limits.check_chars(characters)
        if number % 1000 == 0:
            limits.check_time()
    body = _("Columns: %(columns)s") % {"columns": ", ".join(columns)}
    if lines:
        body += "\n\n" + "\n".join(lines)
    return ExtractedDocument(text=normalise(body), title=name or first_line(body), format="csv")
