"""Text utilities shared by every domain."""

from __future__ import annotations

import re

# C0 controls and DEL, except tab, newline and carriage return. NUL cannot be stored in a
# PostgreSQL text column at all; the others can smuggle markup-like bytes into highlighted
# snippets and confuse terminals reading logs.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control_chars(text: str) -> str:
    """``text`` without C0 control characters (tab, newline and carriage return are kept)."""
    return _CONTROL_CHARS.sub("", text) if text else text


def has_control_chars(text: str) -> bool:
    return bool(text) and _CONTROL_CHARS.search(text) is not None


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``max_bytes`` (never splits a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")
