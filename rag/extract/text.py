"""Plain text and Markdown: decoding bytes, normalising text, titles."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from core.text import strip_control_chars

from ..errors import ExtractionError

TITLE_MAX = 200


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


def decode_text(data: bytes, charset: str | None = None) -> str:
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


def normalise(text: str) -> str:
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


def looks_like_markdown(text: str) -> bool:
    return bool(_ATX_HEADING.search(text[:20000]))


def markdown_title(text: str) -> str:
    headings = _ATX_HEADING.findall(text)
    for level, title in headings:
        if len(level) == 1:
            return clip(title)
    return clip(headings[0][1]) if headings else ""


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return clip(line)
    return ""


def clip(value: str) -> str:
    value = " ".join(strip_control_chars(value).split())
    return value if len(value) <= TITLE_MAX else value[: TITLE_MAX - 1].rstrip() + "…"
