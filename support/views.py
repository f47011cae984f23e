"""Support pages for people (/support/): their tickets, the conversation with support, and the help
centre. Thin: form → one service → redirect/render. Another person's ticket is 404 everywhere."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from chats.rendering import as_safe, render_markdown, render_person
from core.errors import UserFacingError
from core.params import query_page, query_text
from storage.models import StorageFile
from storage.serving import file_response
from storage.uploads import LimitedUploadHandler, declared_length

from . import conf, helpcentre, selectors, services
from .forms import RateForm, ReplyForm, TicketForm
from .models import Language, TicketCategory, TicketStatus

PAGE_SIZE = 25
FORM_OVERHEAD_BYTES = 64 * 1024 + 2 * services.DESCRIPTION_MAX * 4


def _upload_limit() -> int:
    return conf.max_attachment_bytes() * conf.max_attachments()


def _too_large_message() -> str:
    return _("The attachments are too large. The limit is %(limit)s per file and %(count)s files.") % {
        "limit": filesizeformat(conf.max_attachment_bytes()), "count": conf.max_attachments()}


# --- the list -------------------------------------------------------------------------------------------


@login_required
def ticket_list(request):
    search = query_text(request, "q", max_length=100)
    status = query_text(request, "status", max_length=20)
    if status and status not in TicketStatus.values:
        status = ""
    tickets = selectors.tickets_for_user(request.user, search=search, status=status)
    page = Paginator(tickets, PAGE_SIZE).get_page(query_page(request))
    return render(request, "support/list.html", {
        "page": page, "tickets": page.object_list, "search": search, "status": status,
        "statuses": TicketStatus.choices,
    })


# --- a new ticket ---------------------------------------------------------------------------------------


@csrf_exempt
@login_required
def ticket_create(request):
    """GET: the form; POST: open the ticket. CSRF is checked after the upload guard is in place."""
    if request.method == "GET":
        return _render_new(request, TicketForm())
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if declared_length(request) > _upload_limit() + FORM_OVERHEAD_BYTES:
        return _render_new(request, TicketForm(), error=_too_large_message(), status=413)
    guard = LimitedUploadHandler(request, limit=_upload_limit(), file_limit=conf.max_attachment_bytes())
    request.upload_handlers.insert(0, guard)
    return _ticket_create(request, guard)


@csrf_protect
def _ticket_create(request, guard):
    form = TicketForm(request.POST, request.FILES)
    if guard.exceeded:
        return _render_new(request, TicketForm(request.POST), error=_too_large_message(), status=413)
    if not form.is_valid():
        return _render_new(request, form, status=400)
    try:
        ticket = services.ticket_create(
            user=request.user, title=form.cleaned_data["title"], description=form.cleaned_data["description"],
            category=form.cleaned_data["category"], uploads=services.uploads_from(form.cleaned_data["files"]),
        )
    except UserFacingError as exc:
        return _render_new(request, form, error=exc.message, status=400)
    flash.success(request, _("Ticket %(number)s is open. We will answer here and by email.")
                  % {"number": ticket.ticket_number})
    return redirect("support:detail", ticket.pk)


def _render_new(request, form, *, error: str = "", status: int = 200):
    query = " ".join(filter(None, [form.data.get("title", ""), form.data.get("description", "")])) if form.is_bound else ""
    return render(request, "support/new.html", {
        "form": form, "error": error, "suggested": helpcentre.help_articles_for(query[:2000], limit=5) if query else [],
        "max_bytes": conf.max_attachment_bytes(),
    }, status=status)


@login_required
@require_GET
def deflection(request):
    """The help articles best matching what is being typed (JSON for support-new.js)."""
    query = query_text(request, "q", max_length=2000)
    articles = helpcentre.help_articles_for(query, limit=5) if len(query.strip()) >= 3 else []
    return JsonResponse({"articles": [
        {"title": a.title, "url": reverse("support:article", args=[a.slug]), "category": a.get_category_display()}
        for a in articles
    ]}, headers={"Cache-Control": "no-store"})


# --- one ticket -----------------------------------------------------------------------------------------


def _message_view(message) -> dict:
    body = render_markdown(message.content) if message.is_staff else render_person(message.content)
    return {
        "id": str(message.pk), "body": as_safe(body), "is_staff": message.is_staff, "is_ai": message.is_ai,
        "author": (_("Assistant") if message.is_ai else (message.author.get_short_name() if message.author else _("Support")))
        if message.is_staff else _("You"),
        "created_at": message.created_at, "attachments": message.attachments or [],
    }


def _detail_context(request, ticket, reply_form=None) -> dict:
    conversation = [_message_view(m) for m in selectors.visible_messages(ticket)]
    deadline = services.reopen_deadline(ticket)
    ended = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    return {
        "ticket": ticket, "conversation": conversation, "reply_form": reply_form or ReplyForm(),
        "rate_form": RateForm(initial={"rating": ticket.rating}),
        "opening_attachments": (ticket.metadata or {}).get("attachments", []),
        "can_reply": ticket.status != TicketStatus.CLOSED,
        "can_close": ticket.status != TicketStatus.CLOSED,
        "can_reopen": ended and (deadline is None or timezone.now() <= deadline),
        "reopen_deadline": deadline if ended else None,
        "can_rate": ended,
        "last_seen": conversation[-1]["created_at"].isoformat() if conversation else ticket.created_at.isoformat(),
        "can_accept_ai": ticket.status not in (TicketStatus.CLOSED,) and not ticket.ai_resolved,
        "poll_ms": int(conf.poll_seconds() * 1000),
    }


@login_required
@require_GET
def ticket_detail(request, ticket_id):
    ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    return render(request, "support/detail.html", _detail_context(request, ticket))


@login_required
@require_GET
def ticket_messages(request, ticket_id):
    """Messages after ``after`` (an ISO time) as rendered HTML, and the ticket's status (polled by support-ticket.js)."""
    ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    try:
        after = parse_datetime(query_text(request, "after", max_length=40).replace(" ", "+"))
    except ValueError:  # well formed but impossible ("2026-13-45T00:00")
        after = None
    items = []
    for message in selectors.visible_messages(ticket, after=after):
        view = _message_view(message)
        items.append({"id": view["id"], "created_at": message.created_at.isoformat(),
                      "html": render_to_string("support/_message.html", {"m": view, "ticket": ticket,
                                                                        "can_accept_ai": not ticket.ai_resolved},
                                               request=request)})
    return JsonResponse({"status": ticket.status, "status_label": ticket.get_status_display(), "messages": items},
                        headers={"Cache-Control": "no-store"})


@csrf_exempt
@login_required
def ticket_reply(request, ticket_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    if declared_length(request) > _upload_limit() + FORM_OVERHEAD_BYTES:
        flash.error(request, _too_large_message())
        return redirect("support:detail", ticket.pk)
    guard = LimitedUploadHandler(request, limit=_upload_limit(), file_limit=conf.max_attachment_bytes())
    request.upload_handlers.insert(0, guard)
    return _ticket_reply(request, ticket, guard)


@csrf_protect
def _ticket_reply(request, ticket, guard):
    form = ReplyForm(request.POST, request.FILES)
    if guard.exceeded:
        form = ReplyForm(request.POST)
        form.is_valid()
        form.add_error("files", _too_large_message())
        return render(request, "support/detail.html", _detail_context(request, ticket, form), status=413)
    if form.is_valid():
        try:
            services.message_post_by_user(user=request.user, ticket=ticket, content=form.cleaned_data["content"],
                                          uploads=services.uploads_from(form.cleaned_data["files"]))
        except UserFacingError as exc:
            form.add_error("content", exc.message)
        else:
            return redirect(reverse("support:detail", args=[ticket.pk]) + "#latest")
    return render(request, "support/detail.html", _detail_context(request, ticket, form), status=400)


def _act(request, ticket_id, action, success: str):
    ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    try:
        action(ticket)
    except UserFacingError as exc:
        flash.error(request, exc.message)
        return redirect("support:detail", ticket.pk)
    flash.success(request, success)
    return redirect("support:detail", ticket.pk)


@login_required
@require_POST
def ticket_close(request, ticket_id):
    return _act(request, ticket_id, lambda t: services.ticket_close(user=request.user, ticket=t),
                _("The ticket is closed. Thank you!"))


@login_required
@require_POST
def ticket_reopen(request, ticket_id):
    return _act(request, ticket_id, lambda t: services.ticket_reopen(user=request.user, ticket=t),
                _("The ticket is open again."))


@login_required
@require_POST
def ticket_rate(request, ticket_id):
    form = RateForm(request.POST)
    if not form.is_valid():
        ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
        flash.error(request, _("Choose a rating from 1 to 5."))
        return redirect("support:detail", ticket.pk)
    return _act(request, ticket_id, lambda t: services.ticket_rate(user=request.user, ticket=t,
                                                                  rating=form.cleaned_data["rating"]),
                _("Thank you for rating the answer."))


@login_required
@require_POST
def ticket_ai_resolved(request, ticket_id, message_id):
    return _act(request, ticket_id, lambda t: services.ticket_accept_ai_answer(user=request.user, ticket=t,
                                                                              message_id=message_id),
                _("Glad it helped! The ticket is resolved."))


@login_required
@require_GET
def ticket_attachment(request, ticket_id, file_id):
    """One of the ticket's attachments, if it is attached to this ticket (the owner's own file)."""
    ticket = selectors.ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    wanted = str(file_id)
    listed = [a.get("file_id") for a in (ticket.metadata or {}).get("attachments", [])]
    listed += [a.get("file_id") for m in selectors.visible_messages(ticket) for a in (m.attachments or [])]
    if wanted not in listed:
        raise Http404
    file = StorageFile.objects.filter(pk=wanted, user=request.user, deleted_at__isnull=True).first()
    if file is None:
        raise Http404
    return file_response(request, file, inline=True)


# --- the help centre ------------------------------------------------------------------------------------


@login_required
@require_GET
def help_index(request):
    search = query_text(request, "q", max_length=200)
    category = query_text(request, "category", max_length=20)
    if category and category not in TicketCategory.values:
        category = ""
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    passages = helpcentre.help_passages(search, limit=10) if search else []
    if search:
        articles = []
        seen = set()
        for passage in passages:
            if passage.article.pk not in seen and (not category or passage.article.category == category):
                seen.add(passage.article.pk)
                articles.append({"article": passage.article, "snippet": passage.text})
        page = None
    else:
        queryset = selectors.published_articles(category=category)
        if language in Language.values and queryset.filter(language=language).exists():
            queryset = queryset.filter(language=language)
        page = Paginator(queryset, PAGE_SIZE).get_page(query_page(request))
        articles = [{"article": a, "snippet": ""} for a in page.object_list]
    return render(request, "support/help_index.html", {
        "articles": articles, "page": page, "search": search, "category": category,
        "categories": TicketCategory.choices,
    })


@login_required
@require_GET
def help_article(request, slug):
    article = selectors.article_get_published(slug=slug)
    return render(request, "support/help_article.html", {
        "article": article, "body": as_safe(render_markdown(article.body)),
    })
