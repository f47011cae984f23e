"""Safe HTML for messages: Markdown for model output, escaped text for people's messages.

Model output is Markdown rendered by markdown-it-py with raw HTML disabled, code highlighted by
Pygments, then cleaned by nh3 with an allow-list, so whatever a model (or a prompt injection)
writes is shown inert. Citations like ``[2]`` become links to the cited passage when the turn
retrieved passages. The HTML is computed once, when a message is stored, and kept in its
metadata; templates mark only this output safe.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "sup",
    "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "sup": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
# No <img>: a model (or a prompt injection in a document) could leak data through image URLs.
URL_SCHEMES = {"http", "https", "mailto"}
_CITATION = re.compile(r"\[(\d{1,3})\]")
_TAG_OR_TEXT = re.compile(r"(<[^>]+>)")


def _highlight(code: str, language: str, _attrs) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    label = escape(language or "text")
    body = highlight(code, lexer, _FORMATTER) if lexer else escape(code)
    # Starting with <pre tells markdown-it not to wrap it again.
    return f'<pre class="highlight"><code class="language-{label}">{body}</code></pre>\n'



@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    return md


def _link_citations(rendered: str, citations: dict[int, str]) -> str:
    """Turn ``[n]`` in text (never inside tags or code) into a link to passage n."""
    parts = _TAG_OR_TEXT.split(rendered)
    in_code = 0
    for index, part in enumerate(parts):
        if part.startswith("<"):
            tag = part.lower()
            if tag.startswith(("<code", "<pre")):
                in_code += 1
            elif tag.startswith(("</code", "</pre")):
                in_code = max(in_code - 1, 0)
            continue
        if in_code or "[" not in part:
            continue

        def link(match: re.Match) -> str:
            number = int(match.group(1))
            url = citations.get(number)
            if not url:
                return match.group(0)
            return f'<sup class="citation"><a href="{html.escape(url, quote=True)}" class="citation-link">[{number}]</a></sup>'

        parts[index] = _CITATION.sub(link, part)
    return "".join(parts)


def render_markdown(text: str, citations: dict[int, str] | None = None) -> str:
    """Model output → sanitised HTML (a plain ``str``; wrap with ``as_safe`` in templates)."""
    rendered = _markdown().render(text or "")
    if citations:
        rendered = _link_citations(rendered, citations)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_plain(text: str) -> str:
    """A person's message: escaped, with line breaks kept."""
    return linebreaks(escape(text or ""))


def as_safe(rendered: str) -> SafeString:
    """Mark output of this module safe for templates (and only that)."""
    return mark_safe(rendered)  # noqa: S308 - produced by render_markdown/render_plain above


def pygments_css() -> str:
    """The highlighting stylesheet (light, and dark under prefers-color-scheme)."""
    light = HtmlFormatter(style="friendly", classprefix="hl-").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai", classprefix="hl-").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
