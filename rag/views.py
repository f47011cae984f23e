"""The Documents pages. Thin: a selector finds what the user may touch (404 otherwise), one service
writes, then redirect or render. Indexing itself runs in Celery; the list polls ``document_status``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import user_settings_get
from core.errors import UserFacingError
from core.params import clean_text, query_page, query_text
from core.ratelimit import rate_limited

from . import rows as list_rows
from . import selectors, services
from .chunking import HEADING_SEPARATOR
from .forms import (
    DocumentEditForm,
    FileDocumentForm,
    RagSettingsForm,
    TextDocumentForm,
    UrlDocumentForm,
)
from .models import RagChunk, RagDocument, Source
from .retrieval import passage_url, search_passages
from .snippets import highlight
from .uploads import LimitedUploadHandler, declared_length

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100
# The multipart boundaries and the small text fields (title, tags, collection, CSRF token) travel
# with the file, so the request may exceed the file limit by this much before it is refused unread.
FORM_OVERHEAD_BYTES = 16 * 1024
FORM_IDS = {"file": "file_%s", "text": "text_%s", "url": "url_%s", "edit": "edit_%s"}


# --- helpers -----------------------------------------------------------------------------------------


def _state_labels() -> dict[str, str]:
    """What documents.js writes into a row; %(…)s placeholders are filled in the browser."""
    return {
        "QUEUED": _("Queued"),
        "INDEXING": _("Indexing… %(progress)s%%"),
        "INDEXED_ONE": _("Indexed · %(count)s passage"),
        "INDEXED_OTHER": _("Indexed · %(count)s passages"),
        "FAILED": _("Failed: %(reason)s"),
        "announce_indexed": _("“%(title)s”: indexed."),
        "announce_failed": _("“%(title)s”: failed: %(reason)s"),
    }


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _web_link(url: str) -> str:
    """The address as a link target, only when it is http(s) (never javascript: and the like)."""
    return url if url.lower().startswith(("http://", "https://")) else ""


@dataclass(frozen=True)
class PassageView:
    """A passage as the document page shows it: its heading path apart from its text."""

    position: int
    heading_parts: list[str]
    text: str

    @classmethod
    def of(cls, chunk: RagChunk) -> PassageView:
        text, heading = chunk.content, chunk.heading
        # Each chunk's text opens with its heading path (see rag.chunking), shown separately here.
        if heading:
            head, sep, rest = text.partition("\n\n")
            if sep and (head == heading or (head.startswith("…") and heading.endswith(head[1:]))):
                text = rest
            elif text == heading or (text.startswith("…") and heading.endswith(text[1:])):
                text = ""
        return cls(position=chunk.position, heading_parts=heading.split(HEADING_SEPARATOR) if heading else [], text=text)


# --- list ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def document_list(request):
    search = query_text(request, "q", max_length=SEARCH_MAX_LENGTH)
    collection = query_text(request, "collection", max_length=100)
    documents = selectors.documents_for_user(request.user, collection=collection or None, search=search)
    page = Paginator(documents, PAGE_SIZE).get_page(query_page(request))
    rows = list(page.object_list)
    passages = []
    if search and page.number == 1:
        passages = [
            {"result": hit, "url": passage_url(hit), "snippet": highlight(hit.content, search)}
            for hit in search_passages(user=request.user, query=search, collection=collection or None)
        ]
    return render(request, "rag/list.html", {
        "page": page,
        "passages": passages,
        "documents": rows,
        "rows": list_rows.document_rows(request, rows),
        "search": search,
        "collection": collection,
        "collections": selectors.collections_for_user(request.user),
        "filtered": bool(search or collection),
        "pending": any(document.status in selectors.PENDING_STATUSES for document in rows),
        "state_labels": _state_labels(),
    })


@login_required
@require_GET
def document_status(request):
    """``?ids=a,b,c`` → ``[{id, status, progress, chunk_count, error}]`` for those that are the user's;
    anything that is not a document id is left out (the selector reads at most 100)."""
    ids = [clean_text(part, max_length=64) for value in request.GET.getlist("ids")[:selectors.STATUS_IDS_MAX]
           for part in value.split(",")[:selectors.STATUS_IDS_MAX]]
    ids = [part for part in ids if part]
    response = JsonResponse(selectors.document_statuses(user=request.user, ids=ids), safe=False)
    response["Cache-Control"] = "no-store"
    return response


# --- adding ---------------------------------------------------------------------------------------------


def _render_add(request, *, status: int = 200, failed: str = "", **forms):
    context = {
        "file_form": forms.get("file_form") or FileDocumentForm(auto_id=FORM_IDS["file"]),
        "text_form": forms.get("text_form") or TextDocumentForm(auto_id=FORM_IDS["text"]),
        "url_form": forms.get("url_form") or UrlDocumentForm(auto_id=FORM_IDS["url"]),
        "failed": failed,
        "collections": selectors.collections_for_user(request.user),
        "max_upload": settings.RAG_MAX_UPLOAD_BYTES,
    }
    return render(request, "rag/add.html", context, status=status)


def _added(request, document: RagDocument):
    messages.success(request, _("“%(title)s” was added. It is being indexed; this page shows its progress.")
                     % {"title": document.title})
    return redirect("rag:list")


@login_required
@require_GET
def document_add(request):
    return _render_add(request)


def _file_too_large(request, data=None):
    form = FileDocumentForm(data, auto_id=FORM_IDS["file"])
    form.is_valid()
    form.errors["file"] = form.error_class([
        _("This file is too large. The limit is %(limit)s.") % {"limit": filesizeformat(settings.RAG_MAX_UPLOAD_BYTES)}
    ])
    return _render_add(request, file_form=form, failed="file", status=413)


@csrf_exempt
@login_required
@rate_limited("uploads")
def document_add_file(request):
    """Upload a file. CSRF is checked by ``_add_file`` *after* the size guard is in place: the CSRF
    middleware would otherwise read the whole body first (Django: "Modifying upload handlers on the fly")."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    limit = settings.RAG_MAX_UPLOAD_BYTES
    if declared_length(request) > limit + FORM_OVERHEAD_BYTES:
        return _file_too_large(request)  # refused without reading the body
    guard = LimitedUploadHandler(request, limit=limit)
    request.upload_handlers.insert(0, guard)
    return _add_file(request, guard)


@csrf_protect
def _add_file(request, guard: LimitedUploadHandler):
    form = FileDocumentForm(request.POST, request.FILES, auto_id=FORM_IDS["file"])
    if guard.exceeded:
        return _file_too_large(request, request.POST)
    return _add(request, form, field="file", service=services.document_create_from_upload, argument="uploaded_file")


@login_required
@require_POST
@rate_limited("uploads")
def document_add_text(request):
    form = TextDocumentForm(request.POST, auto_id=FORM_IDS["text"])
    return _add(request, form, field="text", service=services.document_create_from_text, argument="text")


@login_required
@require_POST
@rate_limited("url_fetches")
def document_add_url(request):
    form = UrlDocumentForm(request.POST, auto_id=FORM_IDS["url"])
    return _add(request, form, field="url", service=services.document_create_from_url, argument="url")


def _add(request, form, *, field: str, service, argument: str):
    """What every way of adding does with its form: when valid, ``service`` creates the document
    from the ``field`` value (passed as ``argument``) and the details, then on to the list; otherwise,
    or when the service refuses, the add page again (400) with the errors under ``field``."""
    if form.is_valid():
        try:
            document = service(user=request.user, **{argument: form.cleaned_data[field]}, **form.details())
        except UserFacingError as exc:
            form.add_error(field, exc.message)
        else:
            return _added(request, document)
    return _render_add(request, status=400, failed=field, **{f"{field}_form": form})


# --- one document -------------------------------------------------------------------------------------


def _render_detail(request, document: RagDocument, edit_form: DocumentEditForm, *, status: int = 200):
    passages = [PassageView.of(chunk) for chunk in selectors.document_passages(document)]
    source_name = ""
    if document.source == Source.FILE and document.storage_file is not None:
        source_name = document.storage_file.original_name
    return render(request, "rag/document.html", {
        "document": document,
        "passages": passages,
        "source_link": _web_link(document.source_url),
        "source_name": source_name,
        "pending": document.status in selectors.PENDING_STATUSES,
        "edit_form": edit_form,
        "collections": selectors.collections_for_user(request.user),
        "state_labels": _state_labels(),
    }, status=status)


@login_required
@require_GET
def document_detail(request, document_id):
    document = selectors.document_get_for_user(user=request.user, document_id=document_id)
    return _render_detail(request, document, DocumentEditForm(document=document, auto_id=FORM_IDS["edit"]))


@login_required
@require_POST
def document_edit(request, document_id):
    document = selectors.document_get_for_user(user=request.user, document_id=document_id)
    form = DocumentEditForm(request.POST, document=document, auto_id=FORM_IDS["edit"])
    if form.is_valid():
        if form.save(user=request.user):
            messages.success(request, _("Your changes were saved. The document is being indexed again so that "
                                        "searches by collection and tags use the new values."))
        else:
            messages.success(request, _("Your changes were saved."))
        return redirect("rag:document", document_id=document.id)
    return _render_detail(request, document, form, status=400)


@login_required
@require_POST
def document_reindex(request, document_id):
    document = selectors.document_get_for_user(user=request.user, document_id=document_id)
    try:
        services.document_reindex(user=request.user, document=document, rate_limited=True)
    except UserFacingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(title)s” is being indexed again.") % {"title": document.title})
    return redirect(_safe_next(request, reverse("rag:document", args=[document.id])))


@login_required
@require_POST
def document_delete(request, document_id):
    document = selectors.document_get_for_user(user=request.user, document_id=document_id)
    try:
        services.document_delete(user=request.user, document=document)
    except UserFacingError as exc:
        messages.error(request, exc.message)
        return redirect(_safe_next(request, reverse("rag:document", args=[document.id])))
    messages.success(request, _("“%(title)s” was deleted, with its passages.") % {"title": document.title})
    return redirect(_safe_next(request, reverse("rag:list")))


# --- one passage (the chat's source panel) ---------------------------------------------------------------

# static/js/sources.js asks with this header for the panel alone; opened as a page, it is a page.
FRAGMENT_HEADER = "X-Requested-With"
FRAGMENT_VALUE = "fetch"


@login_required
@require_GET
def passage_panel(request, document_id, position):
    """One passage of the user's own document, as the chat's source panel shows it.

    A document that is not the user's (another user's, or deleted) or a passage it no longer has
    (indexed again, shorter) answers 404 with the same translated "no longer available" panel:
    an outsider learns nothing, and the chat shows the reader why there is nothing to read.
    """
    document = passage = None
    try:
        document = selectors.document_get_for_user(user=request.user, document_id=document_id)
    except Http404:
        pass
    else:
        chunk = selectors.document_passages(document).filter(position=position).first()
        passage = PassageView.of(chunk) if chunk is not None else None
    fragment = request.headers.get(FRAGMENT_HEADER) == FRAGMENT_VALUE
    response = render(request, "rag/_passage_panel.html" if fragment else "rag/passage.html", {
        "document": document if passage else None,
        "passage": passage,
    }, status=200 if passage else 404)
    patch_vary_headers(response, [FRAGMENT_HEADER])
    response["Cache-Control"] = "private, no-store"
    return response


# --- retrieval settings ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rag_settings_edit(request):
    current = selectors.rag_settings_get(user=request.user)
    names = selectors.collections_for_user(request.user)
    # A chosen collection whose documents are all gone stays listed, so it can be unchecked.
    choices = [(name, name) for name in names] + [
        (name, _("%(name)s (no documents now)") % {"name": name}) for name in current.collections if name not in names
    ]
    form = RagSettingsForm(
        request.POST if request.method == "POST" else None,
        collections=choices,
        initial={"top_k": current.top_k, "threshold": current.threshold, "collections": current.collections},
    )
    if request.method == "POST" and form.is_valid():
        services.rag_settings_update(user=request.user, top_k=form.cleaned_data["top_k"],
                                     threshold=form.cleaned_data["threshold"],
                                     collections=form.cleaned_data["collections"])
        messages.success(request, _("Your retrieval settings were saved."))
        return redirect("rag:settings")
    return render(request, "rag/settings.html", {
        "form": form,
        "rag_enabled": user_settings_get(user=request.user).rag_enabled,
        "has_collections": bool(choices),
    }, status=400 if form.errors else 200)

