"""The rows of the documents list, rendered in Python (issue 15, item 2: pages at the speed limit).

In the template each of the 25 rows cost about 0.35 ms here: eight translated cell labels, four URL
reversals, two CSRF inputs, an include for the state and a dozen filtered variables, about 9 ms of a
17 ms page. Here the labels, the URL prefixes and the CSRF input are made once per page and each row
is one ``format_html`` (every value escaped), about 0.03 ms. The markup is the template's, cell for
cell; the state cell is ``rag/_state.html``'s (the document page still includes that template, and
``rag/tests/test_documents_pages.py`` checks that both give the same HTML for every state).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.middleware.csrf import get_token
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.dateformat import format as date_text
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from .models import RagDocument, Source, Status

# The template's markup, whitespace included where it shows (between the inline forms).
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
_STATE = (
    '<div class="doc-state doc-state-{status_class}" data-doc-state>\n'
    '  <span class="doc-state-text" data-state-text>{text}</span>\n'
    '  <progress class="doc-progress" max="100"{value} aria-label="{label}" data-state-progress{hidden}>{progress}%</progress>\n'
    "</div>\n"
)


_ID = "00000000-0000-0000-0000-000000000000"


def _url_around_id(name: str) -> tuple[str, str]:
    """What ``reverse(name, args=[id])`` puts before and after the id: one reversal per page, not per row."""
    before, after = reverse(name, args=[_ID]).split(_ID)
    return before, after


def _at(url: tuple[str, str], pk) -> str:
    return f"{url[0]}{pk}{url[1]}"


def state_html(document: RagDocument) -> SafeString:
    """A document's state (text and progress bar), as ``rag/_state.html`` renders it."""
    status = document.status
    # As the template: {% translate %} text is escaped, {% blocktranslate %} text is not (its values are).
    if status == Status.QUEUED:
        text = conditional_escape(gettext("Queued"))
    elif status == Status.INDEXING:
        text = gettext("Indexing… %(progress)s%%") % {"progress": localize(document.progress)}
    elif status == Status.INDEXED:
        count = document.chunk_count
        text = ngettext("Indexed · %(count)s passage", "Indexed · %(count)s passages", count) % {"count": localize(count)}
    elif document.error_message:
        text = gettext("Failed: %(reason)s") % {"reason": conditional_escape(document.error_message)}
    else:
        text = conditional_escape(gettext("Failed"))
    pending = status in (Status.QUEUED, Status.INDEXING)
    return format_html(
        _STATE, status_class=status.lower(), text=mark_safe(text),  # the reason is escaped above
        value=format_html(' value="{}"', document.progress) if status == Status.INDEXING else "",
        label=gettext("Indexing progress"), hidden="" if pending else mark_safe(" hidden"), progress=document.progress,
    )


def document_rows(request, documents: Iterable[RagDocument]) -> SafeString:
    """The ``<tr>`` of each document of the list (``templates/rag/list.html`` holds the table)."""
    labels = {
        f"l_{key}": conditional_escape(gettext(text)) for key, text in (
            ("title", "Title"), ("source", "Source"), ("collection", "Collection"), ("tags", "Tags"),
            ("state", "State"), ("size", "Size"), ("added", "Added"), ("reindex", "Re-index"), ("delete", "Delete"),
        )
    }
    sources = dict(Source.choices)
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
    next_ = format_html('<input type="hidden" name="next" value="{}">', request.get_full_path())
    document_url, reindex_url, delete_url, chat_url = (
        _url_around_id(name) for name in ("rag:document", "rag:reindex", "rag:delete", "chats:detail"))
    attached_to, untitled = gettext("Attached to"), gettext("Untitled conversation")
    attached_gone = format_html('\n<small class="doc-attached muted">{}</small>', gettext("Attached to a deleted conversation"))
    confirm = gettext("Delete “%(title)s” and its passages? This cannot be undone.")
    date_format = get_format("SHORT_DATE_FORMAT")
    dates: dict = {}
    html = []
    for document in documents:
        title = conditional_escape(document.title)
        attached = ""
        if getattr(document, "attachment_id", None):
            if document.attached_to_id:
                attached = format_html(
                    '\n<small class="doc-attached muted">{} <a href="{}{}{}">{}</a></small>', attached_to, chat_url[0],
                    document.attached_to_id, chat_url[1], document.attached_to_title or untitled,
                )
            else:
                attached = attached_gone
        created = localtime(document.created_at)
        day = created.date()
        if day not in dates:  # rows added the same day share their text
            dates[day] = date_text(created, date_format)
        html.append(format_html(
            _ROW, id=document.id, status=document.status, title=title, url=_at(document_url, document.id),
            reindex_url=_at(reindex_url, document.id), delete_url=_at(delete_url, document.id),
            attached=attached, source=sources.get(document.source, document.source),
            collection=document.collection or "—",
            tags=format_html('<ul class="doc-tags">{}</ul>', format_html_join("", '<li class="badge">{}</li>', (
                (tag,) for tag in document.tags))) if document.tags else "—",
            state=state_html(document),
            size=filesizeformat(document.size_bytes) if document.size_bytes else "—",
            created_iso=created.isoformat(), created=dates[day], csrf=csrf, next=next_,
            confirm=mark_safe(confirm % {"title": title}), **labels,
        ))
    return mark_safe("".join(html))
