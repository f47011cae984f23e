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
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import docx
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from docx.table import Table
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from pypdf.generic import ArrayObject

from core.text import strip_control_chars

from .errors import ExtractionError, LimitExceeded

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

_TITLE_MAX = 200


@dataclass(frozen=True)
class ExtractedDocument:
    text: str
    title: str
    format: str


# Zip members smaller than this are not held to the compression ratio: small XML parts of any
# Word document compress very well.
_RATIO_FLOOR_BYTES = 1024 * 1024
_ZIP_MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class Limits:
    """The caps one extraction runs under; ``deadline`` is a ``time.monotonic()`` value."""

    max_chars: int
    max_unpacked_bytes: int
    max_ratio: int
    max_pages: int
    time_limit: float
    deadline: float

    @classmethod
    def from_settings(cls, *, max_chars: int | None = None) -> Limits:
        """The configured caps; ``max_chars`` may lower the characters cap (never raise it)."""
        chars = settings.RAG_MAX_DOCUMENT_CHARS if max_chars is None else min(max_chars, settings.RAG_MAX_DOCUMENT_CHARS)
        seconds = settings.RAG_EXTRACTION_TIME_LIMIT
        return cls(max_chars=max(chars, 0), max_unpacked_bytes=settings.RAG_MAX_UNPACKED_BYTES,
                   max_ratio=settings.RAG_MAX_COMPRESSION_RATIO, max_pages=settings.RAG_MAX_PDF_PAGES,
                   time_limit=seconds, deadline=time.monotonic() + seconds)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                _("Reading this document took longer than %(seconds)s seconds, so it was stopped. "
                  "Split it into smaller documents.") % {"seconds": number_format(self.time_limit, 0)},
                kind="time",
            )

    def check_chars(self, count: int) -> None:
        if count > self.max_chars:
            raise LimitExceeded(
                _("This document has more than %(limit)s characters of text, so reading it was stopped. "
                  "Split it into smaller documents.") % {"limit": number_format(self.max_chars, force_grouping=True)},
                kind="characters",
            )

    def check_unpacked(self, size: int) -> None:
        if size > self.max_unpacked_bytes:
            raise LimitExceeded(
                _("This file unpacks to more than %(limit)s, so it was not read.")
                % {"limit": filesizeformat(self.max_unpacked_bytes)},
                kind="unpacked",
            )


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
        return _extract_pdf(data, name, limits)
    if sniffed == "docx":
        _check_zip(data, limits)
        return _extract_docx(data, name, limits)
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
        charset = _meta_charset(data)
    text = _decode_text(data, charset)
    if hint == "html" or (hint in (None, "txt") and _looks_like_html(text)):
        return _extract_html(text, name, limits)
    if hint == "csv":
        return _extract_csv(text, name, limits, tab_separated=tab_separated)
    limits.check_chars(len(text))
    text = _normalise(text)
    if not text:
        raise ExtractionError(_("The document is empty."))
    if hint == "md" or (hint is None and _looks_like_markdown(text)):
        return ExtractedDocument(text=text, title=_markdown_title(text) or name or _first_line(text), format="md")
    return ExtractedDocument(text=text, title=name or _first_line(text), format="txt")


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


# --- text decoding -------------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# C0 controls other than tab, newline, vertical tab, form feed and carriage return, plus C1 controls:
# frequent in binary data decoded as latin-1, rare in real text.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode text bytes: BOM, declared charset, UTF-8, then cp1252 / latin-1; refuse binary data."""
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeError:
                raise ExtractionError(_("This file is not a readable text document.")) from None
            break
    if text is None:
        if b"\x00" in data:
            raise ExtractionError(_("This file is not a readable text document."))
        for encoding in _candidate_encodings(charset):
            try:
                text = data.decode(encoding)
                break
            # Every kind: a declared charset may name no codec (LookupError), a bytes-only codec
            # (LookupError), or Python's "undefined" codec, which raises a bare UnicodeError.
            except (UnicodeError, LookupError, ValueError, TypeError):
                continue
        else:  # latin-1 never fails, so this is unreachable; kept for clarity.
            raise ExtractionError(_("This file is not a readable text document."))
    text = text.lstrip("\ufeff")
    sample = text[:65536]
    if "\x00" in text or len(_CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 100):
        raise ExtractionError(_("This file is not a readable text document."))
    return text


def _candidate_encodings(charset: str | None) -> list[str]:
    # A declared UTF-16/32 without a BOM would "decode" NUL-free bytes into nonsense: ignore it.
    declared = charset if charset and not charset.lower().replace("_", "-").startswith(("utf-16", "utf-32")) else None
    return ([declared] if declared else []) + ["utf-8", "cp1252", "latin-1"]


def _normalise(text: str) -> str:
    """NFC, Unix newlines, no control characters (NUL included), no trailing spaces, at most one
    blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\x0c", "\n\n").replace("\x0b", "\n").replace("\u00a0", " ")
    text = strip_control_chars(text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --- Markdown and plain text -------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _looks_like_markdown(text: str) -> bool:
    return bool(_ATX_HEADING.search(text[:20000]))


def _markdown_title(text: str) -> str:
    headings = _ATX_HEADING.findall(text)
    for level, title in headings:
        if len(level) == 1:
            return _clip(title)
    return _clip(headings[0][1]) if headings else ""


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return _clip(line)
    return ""


def _clip(value: str) -> str:
    value = " ".join(strip_control_chars(value).split())
    return value if len(value) <= _TITLE_MAX else value[: _TITLE_MAX - 1].rstrip() + "…"


# --- HTML ----------------------------------------------------------------------------------------

_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_HTML_TAGS = re.compile(r"<(p|div|h[1-6]|ul|ol|li|table|br|a\s+href|span|article|section)[\s>/]", re.IGNORECASE)


def _looks_like_html(text: str) -> bool:
    head = text[:4096]
    return bool(_HTML_START.match(head)) or len(_HTML_TAGS.findall(head)) >= 3


def _extract_html(text: str, name: str, limits: Limits) -> ExtractedDocument:
    try:
        body, title = html_to_markdown(text)
    except RecursionError:  # absurdly deep nesting
        raise ExtractionError(_("This page is too complex to read.")) from None
    limits.check_time()
    body = _normalise(body)
    limits.check_chars(len(body))
    if not body:
        raise ExtractionError(_("This page has no readable text."))
    return ExtractedDocument(text=body, title=_clip(title) or name or _first_line(body), format="html")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)

# Removed with everything inside: code, chrome and controls, not content.
_DROP_TAGS = ["script", "style", "noscript", "template", "nav", "svg", "canvas", "iframe", "object", "embed",
              "head", "button", "select", "textarea", "input", "map", "audio", "video", "math"]
_HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_TAGS = {
    "address", "article", "aside", "body", "center", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "header", "hgroup", "html", "legend", "main", "p", "section",
    "summary", "caption",
}


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def html_to_markdown(html: str) -> tuple[str, str]:
    """Render HTML as Markdown-ish text and return ``(text, title)``.

    Headings become ``#`` lines, paragraphs are separated by blank lines, list items become ``- ``
    lines (nested ones indented), tables become ``cell | cell`` rows, ``pre`` becomes a fenced block.
    """
    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception:  # lxml missing or refusing the input: the stdlib parser is slower but lenient
        soup = BeautifulSoup(html, "html.parser")
    title = ""
    if soup.title is not None:
        title = " ".join(soup.title.get_text(" ").split())
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in [tag for tag in soup.find_all(True) if _is_hidden(tag)]:
        if not tag.decomposed:
            tag.decompose()
    if not title:
        first_h1 = soup.find("h1")
        if first_h1 is not None:
            title = " ".join(first_h1.get_text(" ").split())
    renderer = _HtmlRenderer()
    renderer.walk(soup.children)
    renderer.flush()
    return "\n\n".join(renderer.blocks), title


def _is_hidden(tag) -> bool:
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if str(attrs.get("role", "")).lower() == "navigation":
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


class _HtmlRenderer:
    """Collects blocks (headings, paragraphs, lists, tables) while walking the tree in order."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._lines: list[str] = []
        self._inline: list[str] = []

    def _flush_line(self) -> None:
        line = " ".join("".join(self._inline).split())
        self._inline = []
        if line:
            # Text that merely starts with "#" must not become a heading for the chunker.
            self._lines.append("\\" + line if line.startswith("#") else line)

    def flush(self) -> None:
        self._flush_line()
        if self._lines:
            self.blocks.append("\n".join(self._lines))
            self._lines = []

    def walk(self, nodes) -> None:
        for node in list(nodes):
            if isinstance(node, PreformattedString):  # comments, doctype, CDATA, processing instructions
                continue
            if isinstance(node, NavigableString):
                self._inline.append(str(node))
                continue
            if not isinstance(node, Tag):
                continue
            name = (node.name or "").lower()
            if name in _HEADING_TAGS:
                self.flush()
                text = _inline_text(node)
                if text:
                    self.blocks.append("#" * _HEADING_TAGS[name] + " " + text)
            elif name in ("ul", "ol", "li"):
                self.flush()
                items: list[str] = []
                if name == "li":
                    _list_item(node, 0, items)
                else:
                    _list(node, 0, items)
                if items:
                    self.blocks.append("\n".join(items))
            elif name == "pre":
                self.flush()
                code = node.get_text().strip("\n")
                if code.strip():
                    # Fenced, so that "# comment" lines in code are not taken for headings.
                    self.blocks.append("```\n" + code.replace("```", "` ` `") + "\n```")
            elif name == "table":
                self.flush()
                rows = _table_rows(node)
                if rows:
                    self.blocks.append("\n".join(rows))
            elif name == "br":
                self._flush_line()
            elif name == "hr":
                self.flush()
            elif name == "blockquote":
                self.flush()
                inner = _HtmlRenderer()
                inner.walk(node.children)
                inner.flush()
                for block in inner.blocks:
                    self.blocks.append("\n".join("> " + line for line in block.split("\n")))
            elif name in _BLOCK_TAGS:
                self.flush()
                self.walk(node.children)
                self.flush()
            else:
                self.walk(node.children)


def _inline_text(tag) -> str:
    inner = _HtmlRenderer()
    inner.walk(tag.children)
    inner.flush()
    return " ".join(" ".join(inner.blocks).split())


def _list(list_tag, depth: int, out: list[str]) -> None:
    for child in list_tag.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "li":
            _list_item(child, depth, out)
        elif child.name in ("ul", "ol"):  # invalid but common: a list directly inside a list
            _list(child, depth + 1, out)


def _list_item(item, depth: int, out: list[str]) -> None:
    nested = [child for child in item.children if isinstance(child, Tag) and child.name in ("ul", "ol")]
    inner = _HtmlRenderer()
    inner.walk(child for child in item.children if not any(child is n for n in nested))
    inner.flush()
    text = " ".join(" ".join(inner.blocks).split())
    if text:
        out.append("  " * depth + "- " + text)
    for child in nested:
        _list(child, depth + 1 if text else depth, out)


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.find_all("tr"):
        cells = [_inline_text(cell) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


# --- PDF -----------------------------------------------------------------------------------------


def _extract_pdf(data: bytes, name: str, limits: Limits) -> ExtractedDocument:
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
            text = _normalise(page.extract_text() or "")
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
    return ExtractedDocument(text=text, title=title or _first_line(text) or name, format="pdf")


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
    return _clip(str(title)) if title and str(title).strip() else ""


# --- DOCX ----------------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _check_zip(data: bytes, limits: Limits) -> None:
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


def _extract_docx(data: bytes, name: str, limits: Limits) -> ExtractedDocument:
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
    text = _normalise(_join_blocks(blocks))
    if not text:
        raise ExtractionError(_("This Word document has no text."))
    return ExtractedDocument(text=text, title=_clip(core_title or first_heading) or name or _first_line(text),
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


# --- CSV -----------------------------------------------------------------------------------------


def _extract_csv(text: str, name: str, limits: Limits, *, tab_separated: bool = False) -> ExtractedDocument:
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
    return ExtractedDocument(text=_normalise(body), title=name or _first_line(body), format="csv")


# --- helpers -------------------------------------------------------------------------------------


def _extension(filename: str) -> str:
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix
    return suffix[1:].lower() if suffix else ""


def _stem(filename: str) -> str:
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return _clip(stem)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _supported_list() -> str:
    return ", ".join(FORMATS)
