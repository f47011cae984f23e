"""The source chips under an answer: the documents its text actually cites.

An answer keeps every passage its turn retrieved in ``metadata["citations"]`` ({"n": Citation.as_json()},
``rag.types``), but the model cites only some of them. The chips list only the numbers that appear
as ``[n]`` in the answer's shown text (outside code, as ``chats.rendering`` links them), one chip
per document (its cited numbers on it, in order), ordered by the first number each document has.

Each chip is a link to its first cited passage on the document's page (what works without
JavaScript); ``static/js/sources.js`` opens the passages in the chat's side panel instead, from the
passage panel endpoint (``rag:passage``) named in the chip's ``data-passages``. The snippet
shown on hover is the one stored with the citation when the answer was written (rows from before
that have none: the title alone). Everything comes from the message's metadata: no query.

Plain Python with escaping, like ``chats.rendering.message_item`` (a page renders 500 messages).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.translation import get_language, gettext

_CITED = re.compile(r"\[(\d{1,3})\]")
_TAG_OR_TEXT = re.compile(r"(<[^>]+>)")
_URL_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class CitedRef:
    """One cited number of an answer and the passage it stands for."""

    number: int
    url: str  # the passage on its document's page ("" when not a safe link)
    panel_url: str  # the passage panel (rag:passage), "" when the citation names no document passage
    snippet: str


@dataclass(frozen=True)
class SourceChip:
    """One cited document, with the numbers the text cites it by (ascending)."""

    title: str
    refs: tuple[CitedRef, ...]

    @property
    def url(self) -> str:
        return next((ref.url for ref in self.refs if ref.url), "")

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(ref.number for ref in self.refs)


def cited_numbers(html: str) -> list[int]:
    """The distinct ``[n]`` numbers in rendered answer HTML, in order of number: in text only
    (never inside a tag, a code span or a code block), as ``chats.rendering`` links them."""
    found: set[int] = set()
    in_code = 0
    for part in _TAG_OR_TEXT.split(html or ""):
        if part.startswith("<"):
            tag = part.lower()
            if tag.startswith(("<code", "<pre")):
                in_code += 1
            elif tag.startswith(("</code", "</pre")):
                in_code = max(in_code - 1, 0)
            continue
        if not in_code and "[" in part:
            found.update(int(number) for number in _CITED.findall(part))
    return sorted(found)


def _safe_url(url) -> str:
    """A web or mail address, or a path of this site; nothing else (``javascript:`` ...)."""
    url = str(url or "").strip()
    scheme, colon, _rest = url.partition(":")
    if colon:
        return url if scheme.lower() in _URL_SCHEMES else ""
    return url


def _panel_url(source: dict) -> str:
    try:
        document_id = uuid.UUID(str(source.get("document_id")))
    except ValueError:
        return ""
    position = source.get("position")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        return ""
    pieces = _passage_template(get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF), get_language() or "")
    if pieces is None:
        return reverse("rag:passage", args=[document_id, position])
    return f"{pieces[0]}{document_id}{pieces[1]}{position}{pieces[2]}"


_SENTINEL_DOCUMENT = "00000000-0000-4000-8000-0000000000dd"
_SENTINEL_POSITION = 987654321


@lru_cache(maxsize=64)
def _passage_template(prefix: str, urlconf: str, language: str) -> tuple[str, str, str] | None:
    """The passage panel's address as pieces around the document id and position: one reverse()
    per page rather than one per cited passage; None when they do not appear as such."""
    url = reverse("rag:passage", args=[_SENTINEL_DOCUMENT, _SENTINEL_POSITION])
    head, found, rest = url.partition(_SENTINEL_DOCUMENT)
    middle, found_position, tail = rest.partition(str(_SENTINEL_POSITION))
    if not (found and found_position) or _SENTINEL_DOCUMENT in tail or str(_SENTINEL_POSITION) in tail:
        return None
    return head, middle, tail


def source_chips(citations, html: str) -> list[SourceChip]:
    """The chips for an answer: its stored ``citations`` restricted to the numbers its ``html`` cites,
    one per document (a citation without a document id stands alone, by its address or title)."""
    if not isinstance(citations, dict) or not citations:
        return []
    chips: dict[str, tuple[str, list[CitedRef]]] = {}
    for number in cited_numbers(html):
        source = citations.get(str(number))
        if not isinstance(source, dict):
            continue  # a number the model wrote without a passage: not a source
        title = " ".join(str(source.get("title") or "").split())
        document_id = str(source.get("document_id") or "")
        key = f"d:{document_id}" if document_id else f"u:{source.get('url') or title or number}"
        ref = CitedRef(number=number, url=_safe_url(source.get("url")), panel_url=_panel_url(source),
                       snippet=" ".join(str(source.get("snippet") or "").split()))
        chips.setdefault(key, (title, []))[1].append(ref)
    return [SourceChip(title=title, refs=tuple(refs)) for title, refs in chips.values()]


def sources_html(message, html: str) -> str:
    """The answer's source chips as HTML (empty when its text cites nothing it retrieved)."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    chips = source_chips(metadata.get("citations"), html)
    if not chips:
        return ""
    untitled = gettext("Untitled document")
    items = []
    for index, chip in enumerate(chips, start=1):
        tip_id = f"src-{message.id}-{index}"
        title = escape(chip.title or untitled)
        numbers = " ".join(f'<span class="source-chip-number">{ref.number}</span>' for ref in chip.refs)
        passages = [{"n": ref.number, "url": ref.panel_url} for ref in chip.refs if ref.panel_url]
        data = f' data-passages="{escape(json.dumps(passages))}"' if passages else ""
        snippets = "".join(
            f'<span class="source-tip-passage"><span class="source-tip-number">[{ref.number}]</span> {escape(ref.snippet)}</span>'
            for ref in chip.refs if ref.snippet
        )
        tip = f'<span class="source-tip" role="tooltip" id="{tip_id}"><strong class="source-tip-title">{title}</strong>{snippets}</span>'
        label = f'{numbers} <span class="source-chip-title">{title}</span>'
        if chip.url:
            chip_html = (f'<a class="source-chip" href="{escape(chip.url)}" data-title="{title}"{data} '
                         f'aria-describedby="{tip_id}">{label}</a>')
        else:
            chip_html = f'<span class="source-chip" aria-describedby="{tip_id}" tabindex="0">{label}</span>'
        items.append(f'<li class="source-chip-item">{chip_html}{tip}</li>')
    return f'<ol class="msg-sources" aria-label="{escape(gettext("Sources"))}">{"".join(items)}</ol>'
