"""PDF through pypdf: page count, content streams, characters and time bounded while reading."""

from __future__ import annotations

import io

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from pypdf.generic import ArrayObject

from ..errors import ExtractionError, LimitExceeded
from .base import ExtractedDocument, Limits
from .text import clip, first_line, normalise


def extract_pdf(data: bytes, name: str, limits: Limits) -> ExtractedDocument:
    protected = _("This PDF is protected by a password. Remove the password and upload it again.")
    damaged = _("This PDF file is damaged or incomplete.")
    # A truncated file can sometimes be half-read; refuse it rather than index part of it.
    if b"%%EOF" not in data[-8192:]:
        raise ExtractionError(damaged)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Files restricted only by an owner password open with an empty user password.
            try:
                decrypted = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError, ValueError):
                decrypted = 0
            if not decrypted:
                raise ExtractionError(protected)
        count = len(reader.pages)
        if count > limits.max_pages:
            raise LimitExceeded(
                _("This PDF has %(count)s pages; at most %(limit)s can be read. Split it into smaller files.")
                % {"count": number_format(count, force_grouping=True),
                   "limit": number_format(limits.max_pages, force_grouping=True)},
                kind="pages",
            )
        pages: list[str] = []
        characters = unpacked = 0
        for page in reader.pages:
            limits.check_time()
            # Pages may share one compressed content stream: count what each page makes us parse.
            unpacked += _pdf_content_size(page)
            limits.check_unpacked(unpacked)
            text = normalise(page.extract_text() or "")
            characters += len(text)
            limits.check_chars(characters)
            pages.append(text)
        title = _pdf_title(reader)
    except ExtractionError:
        raise
    except FileNotDecryptedError:
        raise ExtractionError(protected) from None
    except Exception:  # pypdf raises many types (PdfReadError, ValueError, KeyError, ...) on broken input
        raise ExtractionError(damaged) from None
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise ExtractionError(
            _("This PDF has no extractable text (it may be scanned images). Upload a PDF with a text layer.")
        )
    return ExtractedDocument(text=text, title=title or first_line(text) or name, format="pdf")


def _pdf_content_size(page) -> int:
    """Bytes of the page's decoded content streams (pypdf decodes a shared stream once, then caches it)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams)


def _pdf_title(reader) -> str:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata else None
    except Exception:  # broken metadata must not cost the whole document
        return ""
    return clip(str(title)) if title and str(title).strip() else ""
