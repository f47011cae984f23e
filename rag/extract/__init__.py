"""Turn uploaded bytes (txt, md, html, pdf, csv, docx) or a fetched page into normalised text.

The output keeps the structure the chunker relies on: Markdown headings (``#``), paragraphs
separated by blank lines, list items as ``- ``. Every failure raises :class:`ExtractionError` with a
user-facing, translatable reason; nothing here ever returns partial text.

Extraction is bounded (:class:`Limits`, from settings): a zip's members are checked for their
unpacked size and compression ratio before anything parses them, a PDF's page count and content
streams before and while its pages are read, the characters extracted while they are produced,
and the time spent between steps; past any cap extraction stops with :class:`LimitExceeded`, whose
message says which cap. Control characters (NUL included) never survive into the text.

The format is decided from the bytes first (``%PDF``, a zip holding ``word/document.xml``, an HTML
document) and the file name's extension second; a declared content type is only a hint for data
whose name says nothing.

This module is the public API (``extract_text``, ``extract_from_url_response``, ``check_size``,
``Limits``) and the dispatch; each format has its module (``text``: plain text and Markdown, with the
decoding and normalising every format uses; ``html``, ``pdf``, ``docx``, ``csv``), and ``base`` holds
the result type and the caps.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from ..errors import ExtractionError
from .base import ExtractedDocument, Limits
from .csv import extract_csv
from .docx import check_zip, extract_docx
from .html import extract_html, looks_like_html, meta_charset
from .pdf import extract_pdf
from .text import clip, decode_text, first_line, looks_like_markdown, markdown_title, normalise

__all__ = ["CONTENT_TYPES", "EXTENSIONS", "FORMATS", "ExtractedDocument", "Limits", "check_size",
           "extract_from_url_response", "extract_text"]

FORMATS = ("txt", "md", "html", "pdf", "csv", "docx")

EXTENSIONS: dict[str, str] = {
    "txt": "txt",
    "text": "txt",
    "md": "md",
    "markdown": "md",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
    "pdf": "pdf",
    "csv": "csv",
    "tsv": "csv",
    "docx": "docx",
}

CONTENT_TYPES: dict[str, str] = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}

# Types that say nothing about the content; the bytes decide.
_GENERIC_CONTENT_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/download"}


# --- public API --------------------------------------------------------------------------------


def check_size(size: int) -> None:
    """Refuse a document larger than ``settings.RAG_MAX_UPLOAD_BYTES`` (callers may pass a declared size)."""
    limit = settings.RAG_MAX_UPLOAD_BYTES
    if size > limit:
        raise ExtractionError(
            _("This file is too large (%(size)s). The limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def extract_text(*, data: bytes, filename: str, content_type: str | None = None,
                 limits: Limits | None = None) -> ExtractedDocument:
    """Extract normalised text from an uploaded or pasted document (``limits``: from settings by default)."""
    extension = _extension(filename)
    if extension and extension not in EXTENSIONS:
        raise ExtractionError(
            _("Files of type .%(extension)s are not supported. Supported types: %(supported)s.")
            % {"extension": extension, "supported": _supported_list()}
        )
    hint = EXTENSIONS.get(extension) or CONTENT_TYPES.get(_mime(content_type))
    return _extract(data, hint=hint, declared_format=EXTENSIONS.get(extension),
                    charset=_charset(content_type), name=_stem(filename), tab_separated=extension == "tsv",
                    limits=limits or Limits.from_settings())


def extract_from_url_response(data: bytes, content_type: str | None, url: str, *,
                              limits: Limits | None = None) -> ExtractedDocument:
    """Extract text from a fetched page: the response's content type leads, the URL's extension helps."""
    mime = _mime(content_type)
    path = unquote(urlsplit(url).path)
    url_format = EXTENSIONS.get(_extension(path))
    if mime in CONTENT_TYPES:
        hint = CONTENT_TYPES[mime]
    elif mime in _GENERIC_CONTENT_TYPES:
        hint = url_format
    elif mime.startswith("text/"):
        hint = url_format if url_format in ("md", "csv") else "txt"
    else:
        raise ExtractionError(
            _("This page's content type (%(content_type)s) is not supported. Supported types: %(supported)s.")
            % {"content_type": mime, "supported": _supported_list()}
        )
    name = _stem(PurePosixPath(path).name) or (urlsplit(url).hostname or "")
    return _extract(data, hint=hint, declared_format=None, charset=_charset(content_type), name=name,
                    tab_separated=mime == "text/tab-separated-values", limits=limits or Limits.from_settings())


# --- dispatch ----------------------------------------------------------------------------------


def _extract(data: bytes, *, hint: str | None, declared_format: str | None, charset: str | None,
             name: str, limits: Limits, tab_separated: bool = False) -> ExtractedDocument:
    check_size(len(data))
    if not data.strip():
        raise ExtractionError(_("The document is empty."))

    sniffed = _sniff_binary(data)
    if sniffed == "pdf":
        return extract_pdf(data, name, limits)
    if sniffed == "docx":
        check_zip(data, limits)
        return extract_docx(data, name, limits)
    if sniffed == "zip":
        if declared_format == "docx":
            raise ExtractionError(_("This Word document is damaged and cannot be read."))
        raise ExtractionError(_("This file is an archive, which is not supported. Supported types: %(supported)s.")
                              % {"supported": _supported_list()})
    # The name promises a binary format the bytes do not have.
    if declared_format == "pdf" or (declared_format is None and hint == "pdf"):
        raise ExtractionError(_("This PDF file is damaged or is not really a PDF."))
    if declared_format == "docx" or (declared_format is None and hint == "docx"):
        raise ExtractionError(_("This Word document is damaged and cannot be read."))

    if charset is None and hint in (None, "txt", "html"):
        charset = meta_charset(data)
    text = decode_text(data, charset)
    if hint == "html" or (hint in (None, "txt") and looks_like_html(text)):
        return extract_html(text, name, limits)
    if hint == "csv":
        return extract_csv(text, name, limits, tab_separated=tab_separated)
    limits.check_chars(len(text))
    text = normalise(text)
    if not text:
        raise ExtractionError(_("The document is empty."))
    if hint == "md" or (hint is None and looks_like_markdown(text)):
        return ExtractedDocument(text=text, title=markdown_title(text) or name or first_line(text), format="md")
    return ExtractedDocument(text=text, title=name or first_line(text), format="txt")


def _sniff_binary(data: bytes) -> str | None:
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, EOFError):
            return "zip"
        return "docx" if "word/document.xml" in names else "zip"
    return None


# --- helpers -------------------------------------------------------------------------------------


def _extension(filename: str) -> str:
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix
    return suffix[1:].lower() if suffix else ""


def _stem(filename: str) -> str:
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return clip(stem)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _supported_list() -> str:
    return ", ".join(FORMATS)
