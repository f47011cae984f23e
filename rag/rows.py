"""The rows of the documents list, rendered in Python (issue 15, item 2: pages at the speed limit).

In the template each of the 25 rows cost about 0.35 ms here: eight translated cell labels, four URL
reversals, two CSRF inputs, an include for the state and a dozen filtered variables, about 9 ms of a
17 ms page. Here the labels, the URL prefixes, the CSRF input and the state phrases are made once per
page and each row is one ``str.format`` whose every value is escaped (``core.rowhtml.format_row``), a few
hundredths of a millisecond. The markup is the template's, cell for cell; the state cell is
``rag/_state.html``'s (the document page still includes that template, and
``rag/tests/test_documents_pages.py`` checks that both give the same HTML for every state).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.middleware.csrf import get_token
from django.template.defaultfilters import filesizeformat
from django.utils.dateformat import format as date_text
from django.utils.formats import get_format, localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_noop, ngettext

from core.rowhtml import escape, fill_labels, format_row, url_around_id

from .models import RagDocument, Source, Status

# The template's markup, whitespace included where it shows (between the inline forms). The {l_…}
# labels are filled once per page, the rest for each row.
_ROW = (
    '\n<tr data-document-id="{id}" data-status="{status}" data-title="{title}">'
    '\n<td data-label="{l_title}" class="doc-title"><a href="{url}">{title}</a>{attached}</td>'
    '\n<td data-label="{l_source}">{source}</td>'
    '\n<td data-label="{l_collection}">{collection}</td>'
    '\n<td data-label="{l_tags}">{tags}</td>'
    '\n<td data-label="{l_state}">{state}</td>'
    '\n<td data-label="{l_size}">{size}</td>'
    '\n<td data-label="{l_added}"><time datetime="{created_iso}">{created}</time></td>'
    '\n<td class="doc-actions">'
    '\n<form method="post" action="{reindex_url}" class="inline">\n{csrf}\n{next}'
    '\n<button type="submit" class="button small secondary">{l_reindex}<span class="visually-hidden"> {title}</span></button>'
    "\n</form>"
    '\n<form method="post" action="{delete_url}" class="inline" data-confirm="{confirm}">\n{csrf}\n{next}'
    '\n<button type="submit" class="button small danger">{l_delete}<span class="visually-hidden"> {title}</span></button>'
    "\n</form>"
    "\n</td>\n</tr>"
)
_LABELS = {
    "l_title": gettext_noop("Title"), "l_source": gettext_noop("Source"), "l_collection": gettext_noop("Collection"), "l_tags": gettext_noop("Tags"), "l_state": gettext_noop("State"),
    "l_size": gettext_noop("Size"), "l_added": gettext_noop("Added"), "l_reindex": gettext_noop("Re-index"), "l_delete": gettext_noop("Delete"),
}
_STATE = (
    '<div class="doc-state doc-state-{status_class}" data-doc-state>\n'
    '  <span class="doc-state-text" data-state-text>{text}</span>\n'
    '  <progress class="doc-progress" max="100"{value} aria-label="{label}" data-state-progress{hidden}>{progress}%</progress>\n'
    "</div>\n"
)










class _StatePhrases:
    """The state cell's phrases in the active language, looked up once per page."""

    def __init__(self):
        # As the template: {% translate %} text is escaped, {% blocktranslate %} text is not (its values are).
        self.queued, self.failed = escape(gettext("Queued")), escape(gettext("Failed"))
        self.indexing, self.failed_because = gettext("Indexing… %(progress)s%%"), gettext("Failed: %(reason)s")
        self.label = gettext("Indexing progress")
        self.indexed: dict[int, str] = {}

    def text(self, document: RagDocument) -> str:
        status = document.status
        if status == Status.QUEUED:
            return self.queued
        if status == Status.INDEXING:
            return self.indexing % {"progress": escape(localize(document.progress))}
        if status == Status.INDEXED:
            count = document.chunk_count
            if count not in self.indexed:
                self.indexed[count] = ngettext("Indexed · %(count)s passage", "Indexed · %(count)s passages", count) % {
                    "count": escape(localize(count))}
            return self.indexed[count]
        if document.error_message:
            return self.failed_because % {"reason": escape(document.error_message)}
        return self.failed


def _state(document: RagDocument, phrases: _StatePhrases) -> str:
    status = document.status
    return format_row(
        _STATE, status_class=status.lower(), text=mark_safe(phrases.text(document)),  # escaped in there
        value=mark_safe(f' value="{escape(document.progress)}"') if status == Status.INDEXING else "",
        label=phrases.label, hidden="" if status in (Status.QUEUED, Status.INDEXING) else mark_safe(" hidden"),
        progress=document.progress,
    )


def state_html(document: RagDocument) -> SafeString:
    """A document's state (text and progress bar), as ``rag/_state.html`` renders it."""
    return mark_safe(_state(document, _StatePhrases()))


def document_rows(request, documents: Iterable[RagDocument]) -> SafeString:
    """The ``<tr>`` of each document of the list (``templates/rag/list.html`` holds the table)."""
    row = fill_labels(_ROW, _LABELS)
    phrases = _StatePhrases()
    sources = dict(Source.choices)
    csrf = mark_safe(f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(request))}">')
    next_ = mark_safe(f'<input type="hidden" name="next" value="{escape(request.get_full_path())}">')
    (doc_before, doc_after), (reindex_before, reindex_after), (delete_before, delete_after), (chat_before, chat_after) = (
        url_around_id(name) for name in ("rag:document", "rag:reindex", "rag:delete", "chats:detail"))
    attached_to, untitled = escape(gettext("Attached to")), gettext("Untitled conversation")
    attached_gone = f'\n<small class="doc-attached muted">{escape(gettext("Attached to a deleted conversation"))}</small>'
    confirm = gettext("Delete “%(title)s” and its passages? This cannot be undone.")
    date_format = get_format("SHORT_DATE_FORMAT")
    dates: dict = {}
    out = []
    for document in documents:
        pk, title = document.id, escape(document.title)
        attached = ""
        if getattr(document, "attachment_id", None):
            if document.attached_to_id:
                attached = (f'\n<small class="doc-attached muted">{attached_to} <a href="{chat_before}'
                            f'{escape(document.attached_to_id)}{chat_after}">'
                            f'{escape(document.attached_to_title or untitled)}</a></small>')
            else:
                attached = attached_gone
        created = localtime(document.created_at)
        day = created.date()
        if day not in dates:  # rows added the same day share their text
            dates[day] = date_text(created, date_format)
        tags = "".join(f'<li class="badge">{escape(tag)}</li>' for tag in document.tags) if document.tags else ""
        out.append(format_row(
            row, id=pk, status=document.status, title=mark_safe(title), url=f"{doc_before}{pk}{doc_after}",
            reindex_url=f"{reindex_before}{pk}{reindex_after}", delete_url=f"{delete_before}{pk}{delete_after}",
            attached=mark_safe(attached), source=sources.get(document.source, document.source),
            collection=document.collection or "—",
            tags=mark_safe(f'<ul class="doc-tags">{tags}</ul>') if tags else "—",  # each tag escaped above
            state=mark_safe(_state(document, phrases)),
            size=filesizeformat(document.size_bytes) if document.size_bytes else "—",
            created_iso=created.isoformat(), created=dates[day], csrf=csrf, next=next_,
            confirm=mark_safe(confirm % {"title": title}),
        ))
    return mark_safe("".join(out))
