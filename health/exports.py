"""Files the health pages hand out: an appointment's .ics and the measurements' CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.utils import timezone

from . import measurements


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped; control characters dropped."""
    value = "".join(ch for ch in value if ch in "\n" or ord(ch) >= 32)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (CRLF + space), never inside a UTF-8 sequence."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _stamp(value: datetime) -> str:
    return value.astimezone(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment, summary: str, reminder_label: str) -> str:
    start = appointment.scheduled_date
    end = start + timedelta(minutes=appointment.duration)
    host = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "localhost"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cjhirashi-agents//health//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{appointment.pk}@{host}",
        f"DTSTAMP:{_stamp(timezone.now())}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{_ics_text(summary)}",
    ]
    if appointment.reason:
        lines.append(f"DESCRIPTION:{_ics_text(appointment.reason)}")
    if appointment.status == "CANCELLED":
        lines.append("STATUS:CANCELLED")
    lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{_ics_text(reminder_label)}", "TRIGGER:-P1D", "END:VALARM",
              "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def measurements_csv(rows, tz, profile_units: dict, type_labels: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["measured_at", "type", "value", "unit_value_1", "unit_value_2", "details"])
    for m in rows:
        shown = measurements.show(m.type, m.value, profile_units)
        value = m.value if isinstance(m.value, dict) else {}
        details = value.get("context", "") if m.type == "GLUCOSE" else ""
        writer.writerow([_cell(c) for c in (
            m.measured_at.astimezone(tz).isoformat(timespec="minutes"), type_labels.get(m.type, m.type), shown.text,
            "" if shown.number is None else shown.number, "" if shown.second is None else shown.second, details)])
    return buffer.getvalue()
