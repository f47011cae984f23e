"""Safe HTML for messages: Markdown for model output, escaped text for people's messages.

Model output is Markdown rendered by markdown-it-py with raw HTML disabled, code highlighted by
Pygments, then cleaned by nh3 with an allow-list, so whatever a model (or a prompt injection)
writes is shown inert. Citations like ``[2]`` become links to the cited passage when the turn
retrieved passages. The HTML is computed once, when a message is stored, and kept in its
metadata with a keyed digest; when shown, HTML whose digest does not match is cleaned again
(``message_body``), so a row changed after the fact cannot carry markup into a page. Templates mark only this output safe.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .sources import sources_html

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
    if len(code) > HIGHLIGHT_CACHE_MAX_CHARS:  # rare; bounds the cache's memory
        return _highlighted.__wrapped__(code, language)
    return _highlighted(code, language)


HIGHLIGHT_CACHE_MAX_CHARS = 8000


# A pure function of (code, language): a streaming answer re-renders its finished code blocks with
# every snapshot, and a page shows the same blocks again; Pygments is the slowest part of both.
@lru_cache(maxsize=512)
def _highlighted(code: str, language: str) -> str:
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


def sanitise(rendered: str) -> str:
    """HTML cleaned by nh3 with the allow-list above."""
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str, citations: dict[int, str] | None = None) -> str:
    """Model output → sanitised HTML (a plain ``str``; wrap with ``as_safe`` in templates)."""
    rendered = _markdown().render(text or "")
    if citations:
        rendered = _link_citations(rendered, citations)
    return sanitise(rendered)


class GrowingMarkdown:
    """``render_markdown`` of a text that only grows (an answer as it streams), parsing again only
    from the start of its last top-level block.

    CommonMark closes a top-level block for good when the next one starts on whole lines: later
    lines can no longer change it. So the HTML of the closed blocks is kept, and each call parses
    only the text from the first open block's first line on — itself a document that parses as it
    does inside the whole (it starts on a line where no block was open). A link reference definition
    (``[label]: url``) is the exception, since it changes links anywhere in the document: a text
    that may hold one (any ``]:``) is rendered whole. The result is byte-for-byte what
    ``render_markdown`` gives for the same text (chats/tests/test_growing_markdown.py checks
    thousands of prefixes); a 7 kB answer's snapshot costs about 1 ms instead of 5.
    """

    def __init__(self, citations: dict[int, str] | None = None):
        self.citations = citations
        self._closed = ""  # the text whose blocks are closed ...
        self._closed_html = ""  # ... and markdown-it's HTML of it (before citations and nh3)

    def render(self, text: str) -> str:
        text = _NEWLINES.sub("\n", text or "")  # as markdown-it normalises: line numbers stay true
        if "]:" in text or not text.startswith(self._closed):
            self._closed = self._closed_html = ""
            return render_markdown(text, self.citations)
        md = _markdown()
        env: dict = {}
        tail = text[len(self._closed):]
        tokens = md.parse(tail, env)
        # A block closes when the next one starts, but only a start on whole lines is final: the
        # line being written can still change what it is ("1" a paragraph, "1." a list item that
        # continues the list above), and a table's start depends on the line after it too.
        whole_lines = tail.count("\n")
        starts = [i for i, token in enumerate(tokens) if token.level == 0 and token.nesting >= 0 and token.map]
        final = [i for i in starts[1:] if tokens[i].map[0] + 1 < whole_lines]
        if final:
            last = final[-1]
            self._closed_html += md.renderer.render(tokens[:last], md.options, env)
            self._closed += _first_lines(tail, tokens[last].map[0])
            tokens = tokens[last:]
        rendered = self._closed_html + md.renderer.render(tokens, md.options, env)
        if self.citations:
            rendered = _link_citations(rendered, self.citations)
        return sanitise(rendered)


_NEWLINES = re.compile(r"\r\n?")


def _first_lines(text: str, count: int) -> str:
    """The first ``count`` lines of ``text``, with their line ends."""
    end = 0
    for _ in range(count):
        end = text.index("\n", end) + 1
    return text[:end]


_DIGEST_SALT = "chats.rendering.message-html"


def html_digest(rendered: str) -> str:
    """A keyed digest (HMAC-SHA256 under SECRET_KEY) of HTML this module produced."""
    return salted_hmac(_DIGEST_SALT, rendered, algorithm="sha256").hexdigest()


def message_body(message) -> str:
    """A stored message's body as safe HTML, whatever its metadata holds.

    The HTML kept in ``metadata`` is a cache written when the message was stored; a row can be
    changed afterwards (a bug, the admin, a database hand), so it is never trusted as is. A
    person's message is escaped again from its text. An answer's HTML is used as stored only when
    its keyed digest, written with it, still matches (about a microsecond); otherwise (a changed
    row, a row from before digests, a rotated SECRET_KEY) it is cleaned again with the same
    allow-list (nh3: about 0.1 ms for a long answer, too slow to pay on every message of a
    500-message page).
    """
    if message.role != "assistant":
        return render_person(message.content)
    metadata = _metadata(message)
    stored = metadata.get("html")
    if not isinstance(stored, str):  # a row stored without its HTML (imported, or from before it was kept)
        content = message.content or ""
        if len(content) > PERSON_CACHE_MAX_CHARS:
            return render_markdown(content)
        return _render_markdown_cached(content)  # a pure function of the text: once per process
    digest = metadata.get("html_digest")
    if isinstance(digest, str) and constant_time_compare(digest, html_digest(stored)):
        return stored
    if len(stored) > PERSON_CACHE_MAX_CHARS:
        return sanitise(stored)
    return _sanitise_cached(stored)  # a pure function of the HTML: old rows pay nh3 once per process


def _metadata(message) -> dict:
    return message.metadata if isinstance(message.metadata, dict) else {}


def _safe_url(url) -> str:
    """A citation's address if it is a web or mail link; nothing otherwise (``javascript:`` ...)."""
    url = str(url or "").strip()
    scheme, colon, _rest = url.partition(":")
    if colon and scheme.lower() in URL_SCHEMES:
        return url
    return "" if colon else url


def render_plain(text: str) -> str:
    """A person's message: escaped, with line breaks kept."""
    return linebreaks(escape(text or ""))


# A person's message is Markdown too (fenced code shown as code), through the same markdown-it +
# nh3 path as answers, with its line breaks kept (``breaks``). It is rendered from its text every
# time it is shown, never from stored HTML; the HTML of recent texts is kept in memory (a pure
# function of the text), so the 500-message page pays the rendering once per text and process.
PERSON_CACHE_SIZE = 2048
PERSON_CACHE_MAX_CHARS = 4000  # longer texts are rendered each time (rare; bounds the memory)


@lru_cache(maxsize=1)
def _person_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True,
                                   "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    return md


def _render_person(text: str) -> str:
    return sanitise(_person_markdown().render(text))


_render_person_cached = lru_cache(maxsize=PERSON_CACHE_SIZE)(_render_person)
_sanitise_cached = lru_cache(maxsize=PERSON_CACHE_SIZE)(sanitise)
_render_markdown_cached = lru_cache(maxsize=PERSON_CACHE_SIZE)(render_markdown)


def render_person(text: str) -> str:
    """A person's message → sanitised HTML: Markdown with raw HTML shown as text, line breaks kept."""
    text = text or ""
    if len(text) > PERSON_CACHE_MAX_CHARS:
        return _render_person(text)
    return _render_person_cached(text)


def as_safe(rendered: str) -> SafeString:
    """Mark output of this module safe for templates (and only that)."""
    return mark_safe(rendered)  # noqa: S308 - produced by render_markdown/render_plain above


def pygments_css() -> str:
    """The highlighting stylesheet (light, and dark under prefers-color-scheme)."""
    light = HtmlFormatter(style="friendly", classprefix="hl-").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai", classprefix="hl-").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


# What an item writes that depends only on the reader's language, and the addresses an item links
# to, looked up once per page (500 gettext and reverse() calls each would be most of the page's
# time): ``_page()`` gathers them; ``message_items`` passes the same one to every item.
_SENTINEL_A = "00000000-0000-4000-8000-0000000000aa"
_SENTINEL_B = "00000000-0000-4000-8000-0000000000bb"


@lru_cache(maxsize=64)
def _item_texts(language: str) -> dict:
    from django.utils.translation import gettext  # noqa: PLC0415

    return {
        "you": gettext("You"),
        "stopped": html.escape(gettext("Stopped before the end.")),
        "failed": gettext("The answer could not be completed."),
        "copy": html.escape(gettext("Copy")),
        "edit": html.escape(gettext("Edit")),
        "good": html.escape(gettext("Good answer")),
        "bad": html.escape(gettext("Bad answer")),
        "versions": html.escape(gettext("Answer versions")),
        "previous": html.escape(gettext("Previous version")),
        "next": html.escape(gettext("Next version")),
        "version": gettext("Version %(number)s of %(total)s"),
    }


@lru_cache(maxsize=64)
def _url_template(name: str, prefix: str, urlconf: str, language: str) -> tuple[str, str, str] | None:
    """``name``'s address for (conversation, message) as three pieces around the two ids (one
    reverse() per page instead of one per message); None when the ids do not appear as such."""
    from django.urls import reverse  # noqa: PLC0415

    url = reverse(name, args=[_SENTINEL_A, _SENTINEL_B])
    head, found_a, rest = url.partition(_SENTINEL_A)
    middle, found_b, tail = rest.partition(_SENTINEL_B)
    if not (found_a and found_b) or _SENTINEL_A in tail or _SENTINEL_B in tail:
        return None
    return head, middle, tail


class _Page:
    """Per-page constants: the language's texts, the time zone, and URL builders."""

    __slots__ = ("language", "texts", "when", "zone", "_key")

    def __init__(self):
        from django.conf import settings  # noqa: PLC0415
        from django.urls import get_script_prefix, get_urlconf  # noqa: PLC0415
        from django.utils import timezone  # noqa: PLC0415
        from django.utils.translation import get_language  # noqa: PLC0415

        self.language = get_language() or ""
        self.texts = _item_texts(self.language)
        self.when = _when_texts(self.language)
        self.zone = timezone.get_current_timezone()
        self._key = (get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF), self.language)

    def url(self, name: str, conversation_id, message_id) -> str:
        pieces = _url_template(name, *self._key)
        if pieces is None:
            from django.urls import reverse  # noqa: PLC0415

            return reverse(name, args=[conversation_id, message_id])
        head, middle, tail = pieces
        return f"{head}{conversation_id}{middle}{message_id}{tail}"


def message_item(message, agent_name: str, versions: dict | None = None, editable: bool = True,
                 page: _Page | None = None, artifacts: dict | None = None) -> str:
    """One message of a conversation as its list item (the page renders 500 of these: plain Python
    with escaping is an order of magnitude faster than a template include per message).
    ``versions``: ``selectors.answer_versions`` of the conversation (looked up for this answer
    when not given); ``editable``: a person's message gets its Edit action; ``page``: the page's
    constants (``message_items`` shares one; looked up here when not given)."""
    page = page or _Page()
    texts = page.texts
    metadata = _metadata(message)
    status = metadata.get("status", "complete")
    role = message.role
    assistant = role == "assistant"
    classes = f"msg msg-{html.escape(role)}"
    if assistant and status != "complete":
        classes += f" msg-{html.escape(str(status))}"
    author = texts["you"] if role == "user" else html.escape(str(agent_name))
    body = message_body(message)
    parts = [
        f'<li class="{classes}" id="m-{message.id}" data-message-id="{message.id}">',
        f'<div class="msg-meta"><span class="msg-author">{author}</span> ',
        f'{_message_when(message, metadata, page)}</div>',
        f'<div class="msg-body">{body}</div>',
    ]
    if assistant:
        if status == "cancelled":
            parts.append(f'<p class="msg-note">{texts["stopped"]}</p>')
        elif status == "failed":
            error = metadata.get("error") or texts["failed"]
            parts.append(f'<p class="msg-note error" role="alert">{escape(error)}</p>')
        if metadata.get("citations"):  # chips for the documents the text cites (chats.sources)
            parts.append(sources_html(message, body))
        parts.append(_artifact_cards(message, artifacts))
        parts.append(_versions_control(message, metadata, versions, page))
    parts.append(_message_actions(message, metadata, editable=editable, page=page))
    parts.append("</li>")
    return "".join(parts)


def _artifact_cards(message, artifacts: dict | None) -> str:
    """Cards of the artifacts the answer made (issue 10: ``artifacts.rendering.cards_html``), from
    ``artifacts`` (``artifacts.selectors.artifacts_for_messages`` of the page, one query) or, for a
    single answer (the stream's final item), looked up for it."""
    from artifacts.rendering import cards_html  # noqa: PLC0415

    if artifacts is None:
        from artifacts.selectors import artifacts_for_messages  # noqa: PLC0415
        from core.tenancy import tenant  # noqa: PLC0415

        with tenant(message.user_id):  # the stream's final item is rendered outside any request
            artifacts = artifacts_for_messages(conversation_id=message.conversation_id, message_ids=[message.id])
    return cards_html(artifacts.get(str(message.id), []))


def _message_actions(message, metadata: dict, editable: bool = True, page: _Page | None = None) -> str:
    """Copy (the message's own text or Markdown, shown only with JavaScript: static/js/chat.js) and,
    on answers, thumbs up and down: buttons of the page's ``#feedback-form`` (its CSRF token), so
    they post without JavaScript too; ``aria-pressed`` tells the stored feedback. A thumb's name is
    its ``aria-label`` (the emoji itself is not read: the label overrides the content), one element
    where a hidden emoji and a hidden label were three (a 500-message page parses 1,000 fewer)."""
    page = page or _Page()
    texts = page.texts
    buttons = []
    if message.content:
        buttons.append(f'<button type="button" class="msg-action msg-copy" data-copy="{html.escape(message.content)}">'
                       f'{texts["copy"]}</button>')
    if message.role == "user" and editable:
        buttons.append(_edit_link(message, page))
    if message.role == "assistant":
        url = page.url("chats:feedback", message.conversation_id, message.id)
        feedback = metadata.get("feedback")
        for value, icon, label in (("up", "👍", texts["good"]), ("down", "👎", texts["bad"])):
            pressed = "true" if feedback == value else "false"
            buttons.append(
                f'<button type="submit" form="feedback-form" formaction="{url}" name="value" value="{value}" '
                f'class="msg-action msg-thumb" aria-pressed="{pressed}" aria-label="{label}" title="{label}">'
                f'{icon}</button>'
            )
    if not buttons:
        return ""
    return f'<div class="msg-actions">{"".join(buttons)}</div>'


@lru_cache(maxsize=64)
def _when_texts(language: str) -> dict:
    """What ``_message_when`` writes that depends only on the language, looked up once per
    language (a 500-message page would otherwise pay the lookups 500 times)."""
    from django.utils import formats  # noqa: PLC0415
    from django.utils.translation import gettext  # noqa: PLC0415

    return {
        "details": escape(gettext("Details")),
        "split": gettext("(%(input)s in, %(output)s out)"),
        "seconds": gettext("%(seconds)s s"),
        "thousands": formats.get_format("THOUSAND_SEPARATOR", use_l10n=True),
        "decimal": formats.get_format("DECIMAL_SEPARATOR", use_l10n=True),
    }


@lru_cache(maxsize=512)
def _day_text(day, language: str) -> str:
    from django.utils import formats  # noqa: PLC0415

    return escape(formats.date_format(day, "DATE_FORMAT"))


@lru_cache(maxsize=1024)
def _tokens_text(total: int, language: str) -> str:
    from django.utils.translation import ngettext  # noqa: PLC0415

    return ngettext("%(count)s token", "%(count)s tokens", total)


@lru_cache(maxsize=256)
def _model_name(model: str, language: str) -> str:
    from agents.registry import display_name  # noqa: PLC0415

    return str(display_name(model))


def _message_when(message, metadata: dict, page: _Page | None = None) -> str:
    """The message's time (``<time datetime>``, in the active time zone; its title the date in the
    reader's language and the time) and, on an answer, what it cost: the model's friendly name,
    its tokens and how long it took. Those sit in a ``<details>`` whose summary is the time: its
    title shows them on hover, a tap or Enter opens them (phones, keyboards), without JavaScript."""
    page = page or _Page()
    language = page.language
    texts = page.when
    moment = message.timestamp.astimezone(page.zone)
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    time_html = (f'<time datetime="{message.timestamp.isoformat()}" '
                 f'title="{_day_text(moment.date(), language)} {clock}">{clock}</time>')
    if message.role != "assistant":
        return time_html

    def grouped(number: int) -> str:
        return f"{number:,}".replace(",", texts["thousands"])

    tokens_in, tokens_out = message.tokens_input or 0, message.tokens_output or 0
    total = tokens_in + tokens_out
    facts = []
    model = metadata.get("model")
    if isinstance(model, str) and model:
        facts.append(_model_name(model, language))
    facts.append(_tokens_text(total, language) % {"count": grouped(total)}
                 + " " + texts["split"] % {"input": grouped(tokens_in), "output": grouped(tokens_out)})
    duration = metadata.get("duration_ms")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 <= duration < 10**9:
        seconds = f"{duration / 1000:.1f}".replace(".", texts["decimal"])
        facts.append(texts["seconds"] % {"seconds": seconds})
    text = html.escape(" · ".join(facts))
    return (f'<details class="msg-details"><summary title="{text}">{time_html}'
            f'<span class="visually-hidden"> · {texts["details"]}</span></summary>'
            f'<span class="msg-usage">{text}</span></details>')


def _edit_link(message, page: _Page | None = None) -> str:
    """Edit a person's message: the edit page without JavaScript, in place with it
    (static/js/message-edit.js)."""
    page = page or _Page()
    url = page.url("chats:message_edit", message.conversation_id, message.id)
    return f'<a class="msg-action msg-edit" href="{url}">{page.texts["edit"]}</a>'


def _versions_control(message, metadata: dict, versions: dict | None, page: _Page | None = None) -> str:
    """"< 2/3 >" on an answer that has several versions (Regenerate keeps them): buttons of the
    page's ``#version-form`` (its CSRF token) posting the version to show, so they work without
    JavaScript; with it, static/js/message-edit.js swaps the item in place."""
    if message.role != "assistant":
        return ""
    if versions is None:
        from core.tenancy import tenant  # noqa: PLC0415

        from .selectors import answer_versions_of  # noqa: PLC0415 - one query, for a single answer

        with tenant(message.user_id):  # the stream's final item is rendered outside any request
            ids = answer_versions_of(message)
    else:
        ids = versions.get(str(metadata.get("reply_to")), ())
        if len(ids) < 2:
            return ""
    ids = [str(version) for version in ids]
    if len(ids) < 2 or str(message.id) not in ids:
        return ""
    page = page or _Page()
    texts = page.texts
    number, total = ids.index(str(message.id)) + 1, len(ids)

    def step(target: int, icon: str, label: str, name: str) -> str:
        if 1 <= target <= total:
            url = page.url("chats:answer_select", message.conversation_id, ids[target - 1])
            where = f'form="version-form" formaction="{url}"'
        else:
            where = "disabled"
        return (f'<button type="submit" {where} class="msg-action msg-version" data-version-step="{name}" '
                f'aria-label="{label}" title="{label}"><span aria-hidden="true">{icon}</span></button>')

    spoken = texts["version"] % {"number": number, "total": total}
    return (
        f'<div class="msg-versions" role="group" aria-label="{texts["versions"]}">'
        f'{step(number - 1, "&lsaquo;", texts["previous"], "previous")}'
        f'<span class="msg-version-count" aria-hidden="true">{number}/{total}</span>'
        f'<span class="visually-hidden">{html.escape(spoken)}</span>'
        f'{step(number + 1, "&rsaquo;", texts["next"], "next")}</div>'
    )


def message_items(messages, agent_name: str, versions: dict | None = None, editable: bool = True) -> SafeString:
    """The items of ``messages`` (one conversation's); its answers' versions are looked up once
    when ``versions`` is not given, the page's texts and addresses once for all of them."""
    messages = list(messages)
    if versions is None:
        from .selectors import answer_versions  # noqa: PLC0415

        versions = answer_versions(conversation_id=messages[0].conversation_id) if messages else {}
    page = _Page()
    answers = [m.id for m in messages if m.role == "assistant"]
    artifacts = _answers_artifacts(messages[0].conversation_id, answers) if answers else {}
    return as_safe("".join([message_item(m, agent_name, versions, editable, page, artifacts) for m in messages]))


def _answers_artifacts(conversation_id, answer_ids) -> dict:
    """{answer id: the artifacts it made} for a page's answers, in one query: what
    ``artifacts.selectors.artifacts_for_messages`` returns, asked as "the conversation's artifacts
    made by an answer" (``?`` on the key) instead of an ``IN`` of 250 JSON values, whose
    parameters alone cost the 500-message page a few milliseconds to prepare."""
    from artifacts.models import Artifact  # noqa: PLC0415

    ids = {str(answer) for answer in answer_ids}
    found: dict[str, list] = {}
    rows = (Artifact.objects.filter(conversation_id=conversation_id, metadata__has_key="source_message_id")
            .only("id", "name", "type", "version", "metadata").order_by("created_at", "id"))
    for artifact in rows:
        source = (artifact.metadata or {}).get("source_message_id")
        if source in ids:
            found.setdefault(source, []).append(artifact)
    return found
