"""Word documents (.docx): the zip checked for its unpacked size and ratio before python-docx reads it."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from django.utils.translation import gettext as _
from docx.table import Table

from ..errors import ExtractionError, LimitExceeded
from .base import ExtractedDocument, Limits
from .text import clip, first_line, normalise

# Zip members smaller than this are not held to the compression ratio: small XML parts of any
# Word document compress very well.
_RATIO_FLOOR_BYTES = 1024 * 1024
_ZIP_MAX_MEMBERS = 10_000

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip (a .docx) whose members unpack past the caps, before any parser reads them.

    The declared sizes are checked first (total, and the ratio of each large member); then every
    member is unpacked in pieces, counting, since declared sizes may lie (``zipfile`` never yields
    more than a member declares, and a member that holds more fails its CRC check: damaged).
    """
    damaged = _("This Word document is damaged and cannot be read.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > _ZIP_MAX_MEMBERS:
                raise ExtractionError(damaged)
            limits.check_unpacked(sum(member.file_size for member in members))
            for member in members:
                if member.file_size > _RATIO_FLOOR_BYTES and member.file_size > limits.max_ratio * max(member.compress_size, 1):
                    raise LimitExceeded(
                        _("This file is compressed far more than documents are (a part of it unpacks to over "
                          "%(ratio)s times its size), so it was not read.") % {"ratio": limits.max_ratio},
                        kind="ratio",
                    )
            unpacked = 0
            for member in members:
                with archive.open(member) as stream:
                    while piece := stream.read(1 << 16):
                        unpacked += len(piece)
                        limits.check_unpacked(unpacked)
                limits.check_time()
    except ExtractionError:
        raise
    except Exception:  # zipfile / zlib raise many types on broken or encrypted members
        raise ExtractionError(damaged) from None


def extract_docx(data: bytes, name: str, limits: Limits) -> ExtractedDocument:
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        first_heading = ""
        characters = 0
        for item in document.iter_inner_content():
            limits.check_time()
            if isinstance(item, Table):
                rows = _docx_table_rows(item)
                if rows:
                    blocks.append("\n".join(rows))
                    characters += len(blocks[-1])
                    limits.check_chars(characters)
                continue
            text = " ".join(item.text.split())
            if not text:
                continue
            characters += len(text)
            limits.check_chars(characters)
            style = (item.style.name if item.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level:
                blocks.append("#" * level + " " + text)
                first_heading = first_heading or text
            elif style.lower().startswith("list") or _docx_is_numbered(item):
                blocks.append("- " + text)
            else:
                blocks.append(text)
        core_title = (document.core_properties.title or "").strip()
    except ExtractionError:
        raise
    except Exception:  # python-docx / lxml / zipfile raise many types on broken input
        raise ExtractionError(_("This Word document is damaged and cannot be read.")) from None
    text = normalise(_join_blocks(blocks))
    if not text:
        raise ExtractionError(_("This Word document has no text."))
    return ExtractedDocument(text=text, title=clip(core_title or first_heading) or name or first_line(text),
                             format="docx")


def _docx_heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style.strip())
    return min(int(match.group(1)), 6) if match else 0


def _docx_is_numbered(paragraph) -> bool:
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _docx_table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # merged cells repeat across the columns they span
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _join_blocks(blocks: list[str]) -> str:
    """Blank lines between blocks, but consecutive list items stay one block."""
    out: list[str] = []
    for block in blocks:
        if out and block.startswith("- ") and out[-1].split("\n")[-1].startswith("- "):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out)
