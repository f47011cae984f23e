"""Chat pages. Views are thin: a selector finds what the user may touch (404 otherwise), a service
writes, and the answer is written and streamed by ``chats.generation``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents import registry
from agents.selectors import agent_get_usable, agent_is_usable_by
from core.cache import redis_available
from core.errors import UserFacingError
from core.params import query_page, query_text
from core.ratelimit import rate_limited
from rag.forms import FileDocumentForm
from rag.uploads import LimitedUploadHandler, declared_length

from . import attachments, export, generation, overrides, page_cache, selectors, services, statements, streaming, versions
from .forms import MessageForm, RenameForm, SearchForm
from .models import MessageRole
from .rendering import as_safe, message_item, message_items
from .sidebar import sidebar_context

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 200


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _wants_stream(request) -> bool:
    """The page's script reads the answer from the question's own response (one request a turn);
    it also accepts JSON, which is what errors and redirects come back as."""
    return "text/event-stream" in request.headers.get("Accept", "")


def _event_stream(body) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # proxies must not hold the stream back
    return response


# On the stream's URL when the question's post asked a runner to write its answer.
STARTED_PARAMETER = "started"


def _turn_urls(conversation, message) -> dict:
    args = [conversation.id, message.id]
    return {
        "message_id": str(message.id),
        "stream_url": reverse("chats:reply_stream", args=args),
        "stop_url": reverse("chats:reply_stop", args=args),
    }


@login_required
@require_GET
def conversation_list(request):
    # Query parameters go through the shared cleaners: no NUL byte reaches PostgreSQL, no page
    # number overflows its OFFSET.
    query = query_text(request, "q", max_length=SEARCH_MAX_LENGTH)
    page_number = query_page(request)
    form = SearchForm({"q": query})
    context = {"form": form, "query": query}
    if query:
        hits, total = selectors.search_conversations(
            user=request.user, query=query, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
        )
        context.update(hits=hits, total=total, page_number=page_number,
                       has_next=page_number * PAGE_SIZE < total, has_previous=page_number > 1)
    else:
        page = Paginator(selectors.conversations_for_user(user=request.user), PAGE_SIZE).get_page(page_number)
        context.update(page=page)
    return render(request, "chats/list.html", context)


@login_required
@rate_limited("messages")
def conversation_new(request, slug):
    agent = agent_get_usable(user=request.user, slug=slug)
    if request.method == "POST" and "content" not in request.POST:
        return redirect("chats:new", slug=agent.slug)  # "Start a conversation" buttons open the empty chat
    form = MessageForm(request.POST if request.method == "POST" else None, agent=agent,
                       initial=overrides.composer_initial(agent))
    if request.method == "POST" and form.is_valid():
        try:
            conversation, message = services.conversation_start(user=request.user, agent=agent, content=form.cleaned_data["content"],
                                                                override=form.overrides())
        except UserFacingError as exc:
            form.add_error("content", exc.message)
        else:
            url = reverse("chats:detail", args=[conversation.id])
            if _wants_json(request):
                generation.answer_on_commit(user=request.user, conversation=conversation, user_message=message)
                return JsonResponse({"redirect": url})
            return redirect(url)
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"errors": form.error_list()}, status=400)
    return render(
        request, "chats/detail.html",
        {"agent": agent, "conversation": None, "messages_list": [], "form": form, "can_chat": True,
         "model_name": registry.display_name(agent.model), "attachment_options": attachments.composer_options()},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def conversation_detail(request, conversation_id):
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    if not conversation.message_count:  # kept by a trigger: nothing to read or keep
        return _render_detail(request, conversation, [], MessageForm())
    can_chat = agent_is_usable_by(conversation.agent, request.user)
    name = conversation.agent.display_name
    key = page_cache.items_key(user=request.user, conversation=conversation, agent_name=name, editable=can_chat)
    items = page_cache.items_get(key)
    if items is None:
        history = list(selectors.conversation_messages(conversation))
        items = message_items(history, name, editable=can_chat)
        page_cache.items_set(key, items)
    else:  # the items as written for these very rows: the page needs only its last messages
        history = selectors.conversation_tail(conversation)
    return _render_detail(request, conversation, history, MessageForm(), items=as_safe(items), can_chat=can_chat)


def _render_detail(request, conversation, history, form, status=200, items=None, can_chat=None):
    """The conversation page. ``history``: its messages (``items`` given: at least its last
    message and last question, ``selectors.conversation_tail``)."""
    pending = history[-1] if history and history[-1].role == MessageRole.USER else None
    if can_chat is None:
        can_chat = agent_is_usable_by(conversation.agent, request.user)
    if not form.is_bound:
        # The composer offers the agent's models and starts from the conversation's last choice.
        form = MessageForm(agent=conversation.agent, initial={**form.initial, **overrides.composer_initial(conversation.agent, history)})
    return render(
        request,
        "chats/detail.html",
        {
            "agent": conversation.agent,
            "conversation": conversation,
            "messages_list": history,
            "messages_html": items if items is not None else message_items(history, conversation.agent.display_name,
                                                                             editable=can_chat),
            "pending": pending,
            "pending_urls": _turn_urls(conversation, pending) if pending else None,
            "form": form,
            "can_chat": can_chat,
            "rename_form": RenameForm(initial={"title": conversation.title}),
            "attachments": attachments.attachments_in_context(user=request.user, conversation=conversation),
            "attachment_options": attachments.composer_options(),
            "model_name": registry.display_name(overrides.model_in_use(conversation.agent, history)),
        },
        status=status,
    )


@login_required
@require_POST
@rate_limited("messages")
def message_create(request, conversation_id):
    # The conversation and the month's usage (for the limit check) in one query.
    conversation, month_row = statements.chat_for_post(user=request.user, conversation_id=conversation_id)
    form = MessageForm(request.POST, agent=conversation.agent)
    if form.is_valid():
        try:
            message = services.message_post(user=request.user, conversation=conversation, content=form.cleaned_data["content"],
                                            override=form.overrides(), in_request=True, month_row=month_row)
        except UserFacingError as exc:
            form.add_error("content", exc.message)
        else:
            if _wants_json(request):
                html = message_item(message, conversation.agent.display_name)
                urls = _turn_urls(conversation, message)
                if _wants_stream(request):
                    # The question's item and URLs, then its answer: a turn in one request.
                    # ``stream_url`` serves a page whose connection drops (from the start again).
                    return _event_stream(generation.turn_events(user=request.user, conversation=conversation, user_message=message,
                                                                head=streaming.sse("turn", {"user_html": html, **urls})))
                generation.answer_on_commit(user=request.user, conversation=conversation, user_message=message)
                urls["stream_url"] += f"?{STARTED_PARAMETER}=1"  # its stream tails the runner (chats.generation.reply_events)
                return JsonResponse({"user_html": html, **urls})
            return redirect("chats:detail", conversation_id=conversation.id)
    if _wants_json(request):
        return JsonResponse({"errors": form.error_list()}, status=400)
    history = list(selectors.conversation_messages(conversation))
    return _render_detail(request, conversation, history, form, status=400)


@login_required
@require_GET
def reply_stream(request, conversation_id, message_id):
    # The conversation, the question and whether it is answered, in one query in the request's
    # transaction: the stream's body runs after it and would open one of its own to read them.
    state = statements.stream_state(user=request.user, conversation_id=conversation_id, message_id=message_id)
    conversation, message, _answer = state
    if message.role != MessageRole.USER:
        return HttpResponse(status=404)
    # The answer is written apart from this connection; a reconnecting browser sends the id of the
    # last event it got and resumes after it (chats.generation).
    return _event_stream(generation.reply_events(
        user=request.user, conversation_id=conversation.id, user_message_id=message.id,
        last_event_id=request.headers.get("Last-Event-ID"), state=state,
        started=request.GET.get(STARTED_PARAMETER) == "1",
    ))


@login_required
@require_POST
def reply_generate(request, conversation_id, message_id):
    """Answer without streaming, for browsers without JavaScript."""
    conversation = selectors.conversation_get_for_chat(user=request.user, conversation_id=conversation_id)
    message = selectors.message_get_for_user(user=request.user, conversation=conversation, message_id=message_id)
    if message.role == MessageRole.USER:
        generation.reply_collect(user=request.user, conversation_id=conversation.id, user_message_id=message.id)
        if not redis_available():
            flash.warning(request, generation.delayed_message())
    return redirect(_latest_url(conversation))  # back at the answer, not at the top of the page


@login_required
@require_POST
def reply_stop(request, conversation_id, message_id):
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    message = selectors.message_get_for_user(user=request.user, conversation=conversation, message_id=message_id)
    services.reply_cancel(message_id=message.id)
    if _wants_json(request):
        return JsonResponse({"stopping": True})
    return redirect(_latest_url(conversation))


def _latest_url(conversation) -> str:
    """The conversation page at its latest message (``#latest`` follows the list): without
    JavaScript too."""
    return reverse("chats:detail", args=[conversation.id]) + "#latest"


@login_required
@require_POST
def reply_regenerate(request, conversation_id):
    conversation = selectors.conversation_get_for_chat(user=request.user, conversation_id=conversation_id)
    try:
        question = services.reply_regenerate(user=request.user, conversation=conversation)
    except UserFacingError as exc:
        if _wants_json(request):
            return JsonResponse({"errors": [exc.message]}, status=400)
        flash.error(request, exc.message)
        return redirect("chats:detail", conversation_id=conversation.id)
    if _wants_json(request):
        return JsonResponse(_turn_urls(conversation, question))
    return redirect("chats:detail", conversation_id=conversation.id)


def _safe_next(request, default: str) -> str:
    """Where a sidebar form sends the person back to: the page it was posted from, if it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def conversation_rename(request, conversation_id):
    """GET: the rename page (the sidebar menu's link without JavaScript); POST: rename."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    if request.method == "GET":
        form = RenameForm(initial={"title": conversation.title})
        return render(request, "chats/rename.html", {"conversation": conversation, "form": form})
    form = RenameForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.conversation_rename(user=request.user, conversation=conversation, title=form.cleaned_data["title"])
        except UserFacingError as exc:
            error = exc.message
    else:
        error = _("A title must have between 1 and 200 characters.")
    if _wants_json(request):
        if error:
            return JsonResponse({"errors": [error]}, status=400)
        return JsonResponse({"title": conversation.title})
    if error:
        flash.error(request, error)
    else:
        flash.success(request, _("The conversation was renamed."))
    return redirect(_safe_next(request, reverse("chats:detail", args=[conversation.id])))


@login_required
@require_http_methods(["GET", "POST"])
def conversation_delete(request, conversation_id):
    """GET: the confirmation page (the sidebar menu's link without JavaScript); POST: delete. With
    JavaScript the menu holds the delete for a few seconds behind an undo toast and posts here
    when the toast expires or the page is left (docs/decisions.md)."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    if request.method == "GET":
        return render(request, "chats/delete.html", {"conversation": conversation})
    services.conversation_delete(user=request.user, conversation=conversation)
    if _wants_json(request):
        return JsonResponse({"deleted": True})
    flash.success(request, _("The conversation was deleted."))
    return redirect("chats:list")


@login_required
@require_POST
def conversation_pin(request, conversation_id):
    """Pin (``pinned=1``) or unpin (``pinned=0``) a conversation in the sidebar."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    pinned = services.conversation_pin(user=request.user, conversation=conversation,
                                       pinned=request.POST.get("pinned") == "1")
    if _wants_json(request):
        return JsonResponse({"pinned": pinned})
    return redirect(_safe_next(request, reverse("chats:detail", args=[conversation.id])))


@login_required
@require_GET
def conversation_title(request, conversation_id):
    """The conversation's title, for the page to show the generated one without a reload."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    return JsonResponse({"title": conversation.title, "display": str(conversation)},
                        headers={"Cache-Control": "no-store"})


@login_required
@require_GET
def conversation_sidebar(request):
    """The sidebar's list (grouped, searched with ``sq``), as HTML for sidebar.js to swap in."""
    return render(request, "chats/_sidebar_list.html", sidebar_context(request))


@login_required
@require_POST
def message_feedback(request, conversation_id, message_id):
    """Thumbs up (``value=up``) or down (``value=down``) on an answer; the same value again takes
    it back. Without JavaScript the buttons post a form and come back to the answer."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    message = selectors.message_get_for_user(user=request.user, conversation=conversation, message_id=message_id)
    if message.role != MessageRole.ASSISTANT:
        raise Http404
    try:
        feedback = services.message_feedback_toggle(user=request.user, message=message, value=request.POST.get("value", ""))
    except UserFacingError as exc:
        if _wants_json(request):
            return JsonResponse({"errors": [exc.message]}, status=400)
        flash.error(request, exc.message)
        history = list(selectors.conversation_messages(conversation))
        return _render_detail(request, conversation, history, MessageForm(), status=400)
    if _wants_json(request):
        return JsonResponse({"feedback": feedback})
    return redirect(reverse("chats:detail", args=[conversation.id]) + f"#m-{message.id}")


def _export_response(conversation, body: str, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = export.attachment_header(conversation, extension)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def conversation_export_markdown(request, conversation_id):
    """The conversation as a Markdown transcript, downloaded (two queries however long it is)."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    history = list(selectors.conversation_messages(conversation))
    versions = selectors.answer_versions(conversation_id=conversation.id)
    return _export_response(conversation, export.conversation_markdown(conversation, history, versions),
                            "text/markdown; charset=utf-8", "md")


@login_required
@require_GET
def conversation_export_json(request, conversation_id):
    """The conversation as JSON (title, agent, model, messages with status, feedback, citations)."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    history = list(selectors.conversation_messages(conversation))
    versions = selectors.answer_versions(conversation_id=conversation.id)
    return _export_response(conversation, export.conversation_json_text(conversation, history, versions),
                            "application/json; charset=utf-8", "json")


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request, conversation_id, message_id):
    """GET: the edit page (the Edit link without JavaScript); POST: the person's message with its
    new text, the messages after it dropped, answered again (JSON for static/js/message-edit.js,
    which streams the answer; otherwise back at the conversation, whose pending answer starts)."""
    conversation = selectors.conversation_get_for_chat(user=request.user, conversation_id=conversation_id)
    message = selectors.question_get_for_edit(user=request.user, conversation=conversation, message_id=message_id)
    page = {"conversation": conversation, "message": message, "later": selectors.messages_after(message),
            "max_chars": settings.MAX_MESSAGE_CHARS}
    if request.method == "GET":
        return render(request, "chats/_edit_message.html", {**page, "content": message.content})
    content = request.POST.get("content", "")
    try:
        message, _removed = versions.message_edit(user=request.user, conversation=conversation, message=message, content=content)
    except UserFacingError as exc:
        if _wants_json(request):
            return JsonResponse({"errors": [exc.message]}, status=400)
        return render(request, "chats/_edit_message.html", {**page, "content": content, "error": exc.message}, status=400)
    if _wants_json(request):
        return JsonResponse({"user_html": message_item(message, conversation.agent.display_name), **_turn_urls(conversation, message)})
    return redirect(_latest_url(conversation))


@login_required
@require_POST
def answer_select(request, conversation_id, message_id):
    """Show this version of an answer ("< 2/3 >"): the page shows it, later turns' context uses it.
    JSON (the item to swap in) for static/js/message-edit.js; otherwise back at the answer."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    answer = selectors.answer_version_get(user=request.user, conversation=conversation, message_id=message_id)
    try:
        answer = services.answer_version_select(user=request.user, answer=answer)
    except UserFacingError as exc:
        if _wants_json(request):
            return JsonResponse({"errors": [exc.message]}, status=400)
        flash.error(request, exc.message)
        return redirect(_latest_url(conversation))
    if _wants_json(request):
        return JsonResponse({"item": message_item(answer, conversation.agent.display_name), "message_id": str(answer.id)})
    return redirect(reverse("chats:detail", args=[conversation.id]) + f"#m-{answer.id}")


# --- attachments (issue 07 item 9): files for this conversation's answers -------------------------

# The multipart boundaries, the CSRF token and the file's headers travel with the file, so the
# request may exceed the file limit by this much before it is refused unread (as rag's upload).
ATTACHMENT_FORM_OVERHEAD_BYTES = 16 * 1024


def _attachments_response(request, conversation, *, error: str = "", added=None, status: int = 200):
    if _wants_json(request):
        items = [attachments.attachment_state(a) for a in
                 attachments.attachments_for_conversation(user=request.user, conversation=conversation)]
        body = {"attachments": items}
        if error:
            body["errors"] = [error]
        if added is not None:
            body["added"] = attachments.attachment_state(added)
        return JsonResponse(body, status=status, headers={"Cache-Control": "no-store"})
    if error:
        flash.error(request, error)
    elif added is not None:
        flash.success(request, _("“%(title)s” was attached. It is being indexed; answers in this conversation use it "
                                 "once it is ready.") % {"title": added.document.title})
    return redirect(reverse("chats:detail", args=[conversation.id]) + "#composer")


def _attachment_too_large_message() -> str:
    return _("This file is too large. The limit is %(limit)s.") % {"limit": filesizeformat(settings.RAG_MAX_UPLOAD_BYTES)}


@csrf_exempt
@login_required
def attachment_create(request, conversation_id):
    """Attach a file (field ``file``) to the conversation. CSRF is checked by ``_attachment_add``
    after the size guard is in place, as for rag's upload (the middleware would read the body)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    conversation = selectors.conversation_get_for_chat(user=request.user, conversation_id=conversation_id)
    limit = settings.RAG_MAX_UPLOAD_BYTES
    if declared_length(request) > limit + ATTACHMENT_FORM_OVERHEAD_BYTES:
        return _attachments_response(request, conversation, error=_attachment_too_large_message(), status=413)
    guard = LimitedUploadHandler(request, limit=limit)
    request.upload_handlers.insert(0, guard)
    return _attachment_add(request, conversation, guard)


@csrf_protect
def _attachment_add(request, conversation, guard: LimitedUploadHandler):
    form = FileDocumentForm(request.POST, request.FILES)
    if guard.exceeded:
        return _attachments_response(request, conversation, error=_attachment_too_large_message(), status=413)
    if not form.is_valid():
        errors = form.errors.get("file") or [attachments.no_file_message()]
        return _attachments_response(request, conversation, error=str(errors[0]), status=400)
    try:
        added = attachments.attachment_create(user=request.user, conversation=conversation,
                                              uploaded_file=form.cleaned_data["file"])
    except UserFacingError as exc:
        return _attachments_response(request, conversation, error=str(exc.message), status=400)
    return _attachments_response(request, conversation, added=added, status=201 if _wants_json(request) else 200)


@csrf_exempt
@login_required
def attachment_create_new(request, slug):
    """Attach a file from a new chat's composer: the conversation is opened with it (JSON says
    where, for attachments.js to go on there; without JavaScript, a redirect there)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    agent = agent_get_usable(user=request.user, slug=slug)
    limit = settings.RAG_MAX_UPLOAD_BYTES
    if declared_length(request) > limit + ATTACHMENT_FORM_OVERHEAD_BYTES:
        return _new_attachment_refused(request, agent, _attachment_too_large_message(), status=413)
    guard = LimitedUploadHandler(request, limit=limit)
    request.upload_handlers.insert(0, guard)
    return _attachment_add_new(request, agent, guard)


def _new_attachment_refused(request, agent, error: str, *, status: int):
    if _wants_json(request):
        return JsonResponse({"errors": [error]}, status=status)
    flash.error(request, error)
    return redirect("chats:new", slug=agent.slug)


@csrf_protect
def _attachment_add_new(request, agent, guard: LimitedUploadHandler):
    form = FileDocumentForm(request.POST, request.FILES)
    if guard.exceeded:
        return _new_attachment_refused(request, agent, _attachment_too_large_message(), status=413)
    if not form.is_valid():
        errors = form.errors.get("file") or [attachments.no_file_message()]
        return _new_attachment_refused(request, agent, str(errors[0]), status=400)
    try:
        added = attachments.attachment_create_in_new_conversation(user=request.user, agent=agent,
                                                                  uploaded_file=form.cleaned_data["file"])
    except UserFacingError as exc:
        return _new_attachment_refused(request, agent, str(exc.message), status=400)
    conversation = added.conversation
    if _wants_json(request):
        return JsonResponse({
            "redirect": reverse("chats:detail", args=[conversation.id]),
            "add_url": reverse("chats:attachment_create", args=[conversation.id]),
            "added": attachments.attachment_state(added),
        }, status=201)
    return _attachments_response(request, conversation, added=added)


@login_required
@require_GET
def attachment_list(request, conversation_id):
    """The conversation's attachments and their indexing state, as JSON (attachments.js polls it)."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    items = [attachments.attachment_state(a) for a in
             attachments.attachments_for_conversation(user=request.user, conversation=conversation)]
    return JsonResponse({"attachments": items}, headers={"Cache-Control": "no-store"})


@login_required
@require_POST
def attachment_delete(request, conversation_id, attachment_id):
    """Remove an attached file (its document goes too: it was uploaded for this conversation)."""
    conversation = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    attachment = attachments.attachment_get_for_user(user=request.user, conversation=conversation,
                                                     attachment_id=attachment_id)
    try:
        attachments.attachment_delete(user=request.user, attachment=attachment)
    except UserFacingError as exc:
        return _attachments_response(request, conversation, error=str(exc.message), status=400)
    if not _wants_json(request):
        flash.success(request, _("“%(title)s” was removed from this conversation.") % {"title": attachment.document.title})
    return _attachments_response(request, conversation)
