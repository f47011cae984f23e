"""HTML: rendered as Markdown-ish text (headings, paragraphs, lists, tables), chrome dropped."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from django.utils.translation import gettext as _

from ..errors import ExtractionError
from .base import ExtractedDocument, Limits
from .text import clip, first_line, normalise

_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_HTML_TAGS = re.compile(r"<(p|div|h[1-6]|ul|ol|li|table|br|a\s+href|span|article|section)[\s>/]", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    head = text[:4096]
    return bool(_HTML_START.match(head)) or len(_HTML_TAGS.findall(head)) >= 3


def extract_html(text: str, name: str, limits: Limits) -> ExtractedDocument:
    try:
        body, title = html_to_markdown(text)
    except RecursionError:  # absurdly deep nesting
        raise ExtractionError(_("This page is too complex to read.")) from None
    limits.check_time()
    body = normalise(body)
    limits.check_chars(len(body))
    if not body:
        raise ExtractionError(_("This page has no readable text."))
    return ExtractedDocument(text=body, title=clip(title) or name or first_line(body), format="html")


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


def meta_charset(data: bytes) -> str | None:
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
