"""Snippets for search results: a window of a passage around the words that matched, with those
words marked. Built from escaped pieces, so the passage's own text can never become markup."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.text import STOP_WORDS, fold, stem_word

_WORD = re.compile(r"\w+")


def query_stems(query: str) -> set[str]:
    """The stems of the question's content words (accent- and case-insensitive)."""
    stems = set()
    for word in _WORD.findall(fold(query)):
        if len(word) > 1 and word not in STOP_WORDS:
            stems.add(stem_word(word))
    return stems


def _matches(text: str, stems: set[str]) -> list[tuple[int, int]]:
    spans = []
    for match in _WORD.finditer(text):
        if stem_word(fold(match.group())) in stems:
            spans.append(match.span())
    return spans


def highlight(text: str, query: str, *, width: int = 260) -> SafeString:
    """About ``width`` characters of ``text`` around its first match, matches in ``<mark>``."""
    stems = query_stems(query)
    spans = _matches(text, stems) if stems else []
    if spans:
        first = spans[0][0]
        start = max(0, first - width // 3)
        if start:  # start at a word boundary
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
    else:
        start = 0
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    pieces, cursor = [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        pieces.append(escape(text[cursor:span_start]))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(escape(text[cursor:end]))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + "".join(pieces).replace("\n", " ") + suffix)  # noqa: S308 - every piece escaped
