"""Split extracted text into overlapping, structure-aware chunks for embedding.

Order of preference for cut points: Markdown headings (each chunk belongs to one section and
starts with that section's heading path, e.g. ``Guide > Install``), blank lines (whole paragraphs
are packed up to the size), line breaks and sentence ends (inside a paragraph that is too long),
spaces (inside a sentence that is too long) and, for a single "word" longer than the size, a hard
cut. Each chunk after the first in a section starts with the tail of the previous one (about
``overlap`` characters, beginning on a sentence or word boundary).

Sizes are in characters and include the heading prefix, so ``len(chunk.text) <= chunk_size``
always holds (a heading path longer than half the size is clipped from the left in the prefix;
``chunk.heading`` keeps it whole). ``start``/``end`` locate the chunk's body (without the prefix) in
the input. A heading with nothing under it becomes a chunk of its own whose text is the heading
path and whose ``start``/``end`` locate the heading line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

HEADING_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    position: int
    text: str
    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class _Section:
    heading: str  # full path, "" before the first heading
    level: int  # 0 before the first heading
    heading_start: int
    heading_end: int
    body_start: int
    body_end: int


# Heading and fence lines; anything else is body text.
_STRUCTURE_LINE = re.compile(r"^(?: {0,3}(?P<fence>```|~~~).*|(?P<marks> {0,3}#{1,6})[ \t]+(?P<title>.*?))[ \t]*$",
                             re.MULTILINE)
_CLOSING_HASHES = re.compile(r"[ \t]+#+$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
# A sentence ends with ., !, ? or … (then optional closing quotes/brackets) before whitespace; CJK
# full stops need no whitespace.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])\s*")
_WORD_BREAK = re.compile(r"\s+")
_SENTENCE_START = re.compile(r"(?:[.!?…][\"'”’)\]]*\s+|\n\s*|[。！？]\s*)(?=\S)")
_WORD_START = re.compile(r"\s+(?=\S)")


def chunk_text(text: str, *, chunk_size: int | None = None, overlap: int | None = None) -> list[Chunk]:
    """Split ``text`` into chunks of at most ``chunk_size`` characters (see the module docstring)."""
    size = settings.RAG_CHUNK_SIZE if chunk_size is None else chunk_size
    overlap = settings.RAG_CHUNK_OVERLAP if overlap is None else overlap
    if size < 1:
        raise ValueError("chunk_size must be at least 1")
    if overlap < 0 or overlap >= size:
        raise ValueError("overlap must be at least 0 and smaller than chunk_size")

    chunks: list[Chunk] = []
    sections = _sections(text)
    for index, section in enumerate(sections):
        prefix = _prefix(section.heading, size)
        budget = size - len(prefix)
        effective_overlap = min(overlap, budget // 2)
        units = _units(text, section.body_start, section.body_end, budget, effective_overlap)
        if units:
            for start, end in _pack(text, units, budget, effective_overlap):
                chunks.append(Chunk(len(chunks), prefix + text[start:end], section.heading, start, end))
        elif section.heading and _is_leaf(sections, index):
            # A heading with nothing under it still says something: keep it as a chunk of its own.
            title = section.heading if len(section.heading) <= size else "…" + section.heading[-(size - 1):]
            chunks.append(Chunk(len(chunks), title, section.heading, section.heading_start, section.heading_end))
    return chunks


# --- sections ------------------------------------------------------------------------------------


def _sections(text: str) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current = _Section(heading="", level=0, heading_start=0, heading_end=0, body_start=0, body_end=len(text))
    in_fence: str | None = None
    for match in _STRUCTURE_LINE.finditer(text):
        fence = match.group("fence")
        if fence:
            if in_fence is None:
                in_fence = fence
            elif fence == in_fence:
                in_fence = None
            continue
        if in_fence is not None:
            continue
        title = " ".join(_CLOSING_HASHES.sub("", match.group("title")).split()).strip("#").strip()
        if not title:
            continue
        level = match.group("marks").count("#")
        sections.append(_replace_end(current, match.start()))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        current = _Section(
            heading=HEADING_SEPARATOR.join(title for _, title in stack),
            level=level,
            heading_start=match.start(),
            heading_end=match.end(),
            body_start=match.end(),
            body_end=len(text),
        )
    sections.append(current)
    return sections


def _replace_end(section: _Section, end: int) -> _Section:
    return _Section(section.heading, section.level, section.heading_start, section.heading_end,
                    section.body_start, end)


def _is_leaf(sections: list[_Section], index: int) -> bool:
    following = sections[index + 1] if index + 1 < len(sections) else None
    return following is None or following.level <= sections[index].level


def _prefix(heading: str, size: int) -> str:
    """The heading context that opens each chunk; clipped so it never takes more than half the size."""
    if not heading:
        return ""
    room = size // 2 - 2
    if room < 2:
        return ""
    if len(heading) > room:
        heading = "…" + heading[-(room - 1):].lstrip()
    return heading + "\n\n"


# --- units: whole paragraphs, or pieces of a long one ----------------------------------------------


def _units(text: str, start: int, end: int, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of at most ``budget`` characters, each a paragraph or a piece of one."""
    # Pieces leave room for the overlap so that a chunk made of one piece still carries context.
    limit = max(1, budget - overlap)
    units: list[tuple[int, int]] = []
    for para_start, para_end in _split(text, start, end, _PARAGRAPH_BREAK):
        if para_end - para_start <= budget:
            units.append((para_start, para_end))
        else:
            units.extend(_split_long(text, para_start, para_end, limit, 0))
    return units


_LEVELS = (_LINE_BREAK, _SENTENCE_BREAK, _WORD_BREAK)


def _split_long(text: str, start: int, end: int, limit: int, level: int) -> list[tuple[int, int]]:
    """Pack the parts of a too-long span (lines, then sentences, then words) into pieces <= ``limit``."""
    if level >= len(_LEVELS):  # one enormous token: cut it
        return [(pos, min(pos + limit, end)) for pos in range(start, end, limit)]
    pieces: list[tuple[int, int]] = []
    piece_start: int | None = None
    piece_end = start
    for part_start, part_end in _split(text, start, end, _LEVELS[level]):
        if piece_start is not None and part_end - piece_start <= limit:
            piece_end = part_end
            continue
        if piece_start is not None:
            pieces.append((piece_start, piece_end))
            piece_start = None
        if part_end - part_start <= limit:
            piece_start, piece_end = part_start, part_end
        else:
            pieces.extend(_split_long(text, part_start, part_end, limit, level + 1))
    if piece_start is not None:
        pieces.append((piece_start, piece_end))
    return pieces


def _split(text: str, start: int, end: int, separator: re.Pattern) -> list[tuple[int, int]]:
    """Non-blank spans of ``text[start:end]`` between matches of ``separator``, trimmed of whitespace."""
    spans = []
    position = start
    for match in separator.finditer(text, start, end):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, end))
    trimmed = []
    for span_start, span_end in spans:
        while span_start < span_end and text[span_start].isspace():
            span_start += 1
        while span_end > span_start and text[span_end - 1].isspace():
            span_end -= 1
        if span_end > span_start:
            trimmed.append((span_start, span_end))
    return trimmed


# --- packing with overlap ------------------------------------------------------------------------------


def _pack(text: str, units: list[tuple[int, int]], budget: int, overlap: int) -> list[tuple[int, int]]:
    chunks: list[tuple[int, int]] = []
    chunk_start, chunk_end = units[0]
    for unit_start, unit_end in units[1:]:
        if unit_end - chunk_start <= budget:
            chunk_end = unit_end
            continue
        chunks.append((chunk_start, chunk_end))
        tail = _overlap_start(text, chunk_start, chunk_end, overlap, unit_end - budget) if overlap else None
        chunk_start, chunk_end = (tail if tail is not None else unit_start), unit_end
    chunks.append((chunk_start, chunk_end))
    return chunks


def _overlap_start(text: str, prev_start: int, prev_end: int, overlap: int, lowest: int) -> int | None:
    """Where the next chunk starts inside the previous one: the earliest sentence start (else word start)
    among its last ``overlap`` characters, never so early that the next chunk would overflow."""
    window = max(prev_end - overlap, prev_start + 1, lowest)
    if window >= prev_end:
        return None
    for pattern in (_SENTENCE_START, _WORD_START):
        for match in pattern.finditer(text, max(prev_start, window - 64), prev_end):
            if window <= match.end() < prev_end:
                return match.end()
    return None
