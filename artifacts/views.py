"""Pages of /artifacts/ (the owner's) and /a/<token>/ (a shared version, no sign-in).

Views run in the request's tenant (``core.tenancy.TenantMiddleware``); every object URL goes
through ``selectors.artifact_get_for_user`` (another person's artifact is a 404). Writes are POSTs
with CSRF, one service each; refusals (``UserFacingError``) are shown as their message.

The HTML frame and the image are separate responses: an HTML artifact runs in an
``<iframe sandbox="allow-scripts">`` (never ``allow-same-origin``) whose document carries its own
CSP (``FRAME_CSP``: no network at all, scripts and styles only inline, sandboxed even when opened
directly) and ``X-Frame-Options: SAMEORIGIN`` with ``frame-ancestors 'self'`` so only this site
frames it; an SVG is served as an image under a sandboxing CSP.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.errors import UserFacingError
from core.params import clean_text, query_page, query_text
from core.rowhtml import page_of

from . import content as stored
from . import rendering, selectors, services
from .conf import setting
from .forms import ArtifactForm, EditForm
from .models import Artifact, ArtifactType
from .rows import artifact_rows

FRAME_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
             "img-src data:; font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
IMAGE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
NEW_LINK_SESSION_KEY = "artifacts:new-link"
SEARCH_MAX_LENGTH = 100


def _uuid_or_none(value):
    import uuid  # noqa: PLC0415

    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _urls(artifact: Artifact, token: str | None = None) -> dict:
    if token:
        return {"frame": reverse("artifact_shares:frame", args=[token]),
                "image": reverse("artifact_shares:image", args=[token]),
                "download": reverse("artifact_shares:download", args=[token])}
    return {"frame": reverse("artifacts:frame", args=[artifact.pk]),
            "image": reverse("artifacts:image", args=[artifact.pk]),
            "download": reverse("artifacts:download", args=[artifact.pk])}


def _body(artifact: Artifact, urls: dict, text: str | None = None):
    if text is None:
        text = stored.full_text(artifact)
    return rendering.render(artifact, text, frame_url=urls["frame"], image_url=urls["image"])


def _usable_agents(user):
    from agents.selectors import agents_for_user  # noqa: PLC0415

    return list(agents_for_user(user))


def _too_large_post(request) -> bool:
    from storage.uploads import declared_length  # noqa: PLC0415

    return declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return _("This is too much text to send at once (the limit is %(size)s MB). Save a shorter part, or upload it "
             "under Files.") % {"size": f"{limit:g}"}


# --- the owner's pages -------------------------------------------------------------------------------


@login_required
def artifact_list(request):
    type_ = query_text(request, "type", max_length=16).upper()
    if type_ and type_ not in ArtifactType.values:
        messages.warning(request, _("There is no such type; showing every type."))
        type_ = ""
    agent_id = _uuid_or_none(query_text(request, "agent", max_length=40))
    conversation_id = _uuid_or_none(query_text(request, "conversation", max_length=40))
    language = query_text(request, "language", max_length=40).lower()
    search = query_text(request, "q", max_length=SEARCH_MAX_LENGTH)
    size = setting("ARTIFACTS_PAGE_SIZE")
    page = page_of(*selectors.artifact_page(user=request.user, type=type_, agent_id=agent_id, conversation_id=conversation_id,
                                            language=language, search=search, number=query_page(request), size=size), size)
    agents, languages = selectors.filter_choices(user=request.user)
    return render(request, "artifacts/list.html", {
        "page": page, "rows": artifact_rows(page.object_list), "types": ArtifactType.choices, "type": type_, "agent_id": agent_id or "",
        "conversation_id": conversation_id or "", "language": language, "search": search,
        "agents": agents, "languages": languages,
        "filtered": bool(type_ or agent_id or conversation_id or language or search),
    })


@login_required
@require_POST
def artifact_bulk_delete(request):
    ids = [i for i in (_uuid_or_none(v) for v in request.POST.getlist("artifact")[:500]) if i]
    roots = [(a.metadata or {}).get("root", str(a.pk)) for a in
             Artifact.objects.filter(user_id=request.user.pk, pk__in=ids).only("id", "metadata")]
    if not roots:
        messages.warning(request, _("Select the artifacts to delete first."))
        return redirect("artifacts:list")
    count = services.artifacts_delete(user=request.user, roots=roots)
    messages.success(request, ngettext("%(count)d artifact deleted.", "%(count)d artifacts deleted.", count) % {"count": count})
    return redirect("artifacts:list")


@login_required
def artifact_new(request):
    agents = _usable_agents(request.user)
    if not agents:
        messages.warning(request, _("No agent is available to you, so there is nothing to keep an artifact with."))
        return redirect("artifacts:list")
    if request.method == "POST" and _too_large_post(request):
        form = ArtifactForm(agents=agents, initial={"agent": str(agents[0].pk)})
        return render(request, "artifacts/new.html", {"form": form, "page_error": _too_large_message()}, status=413)
    initial = {"agent": str(agents[0].pk), "type": ArtifactType.CODE}
    form = ArtifactForm(request.POST if request.method == "POST" else None, agents=agents, initial=initial)
    if request.method == "POST" and form.is_valid():
        agent = next(a for a in agents if str(a.pk) == form.cleaned_data["agent"])
        try:
            artifact = services.artifact_create(user=request.user, agent=agent, name=form.cleaned_data["name"],
                                                type=form.cleaned_data["type"], content=form.cleaned_data["content"],
                                                language=form.cleaned_data["language"])
        except UserFacingError as exc:
            form.add_error("content", exc.message)
        else:
            messages.success(request, _("The artifact was saved."))
            return redirect("artifacts:detail", artifact.pk)
    return render(request, "artifacts/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def artifact_from_message(request, message_id):
    """Keep a message (or the selection of it sent as ``selection``) as a new artifact."""
    from chats.models import Message  # noqa: PLC0415

    message = Message.objects.filter(pk=_uuid_or_none(message_id), user_id=request.user.pk) \
        .select_related("conversation").first()
    if message is None:
        raise Http404
    if _too_large_post(request):
        messages.error(request, _too_large_message())
        return redirect("chats:detail", message.conversation_id)
    # The selection as the person saw it (rendered text, so not always a piece of the Markdown).
    selection = (request.POST.get("selection") or "").strip()
    text = selection or message.content
    type_ = request.POST.get("type", ArtifactType.MARKDOWN)
    if type_ not in ArtifactType.values or type_ == ArtifactType.IMAGE:
        type_ = ArtifactType.MARKDOWN
    name = clean_text(request.POST.get("name"), max_length=200) or (
        _("Selection from %(title)s") if selection else _("Message from %(title)s")) % {
        "title": message.conversation.title or _("Untitled conversation")}
    try:
        artifact = services.artifact_create(user=request.user, agent=message.conversation.agent, name=name, type=type_,
                                            content=text, conversation=message.conversation, origin="message",
                                            source_message_id=message.pk)
    except UserFacingError as exc:
        messages.error(request, exc.message)
        return redirect("chats:detail", message.conversation_id)
    messages.success(request, _("Saved as an artifact."))
    return redirect("artifacts:detail", artifact.pk)


def _detail_context(request, artifact: Artifact) -> dict:
    versions = selectors.versions_of(artifact)
    newest = versions[-1] if versions else artifact
    urls = _urls(artifact)
    new_link = request.session.pop(NEW_LINK_SESSION_KEY, None)
    share_url = ""
    if isinstance(new_link, dict) and new_link.get("artifact") == str(artifact.pk):
        share_url = request.build_absolute_uri(reverse("artifact_shares:open", args=[new_link["token"]]))
    text = stored.full_text(artifact)
    return {
        "artifact": artifact, "versions": versions, "newest": newest, "is_newest": newest.pk == artifact.pk,
        "body": _body(artifact, urls, text), "urls": urls, "share_url": share_url, "source_text": text,
        "metadata": artifact.metadata if isinstance(artifact.metadata, dict) else {},
        "stored": stored.is_stored(artifact),
    }


@login_required
@require_GET
def artifact_detail(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    return render(request, "artifacts/detail.html", _detail_context(request, artifact))


@login_required
@require_GET
def artifact_panel(request, artifact_id):
    """The artifact as the chat's side panel shows it (a fragment)."""
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    response = render(request, "artifacts/_panel.html", _detail_context(request, artifact))
    patch_cache_control(response, private=True, no_cache=True)
    return response


@login_required
@require_GET
def conversation_panel(request, conversation_id):
    """The conversation's artifacts (newest versions), for the chat's side panel."""
    from chats.models import Conversation  # noqa: PLC0415

    if not Conversation.objects.filter(pk=_uuid_or_none(conversation_id), user_id=request.user.pk).exists():
        raise Http404
    found = selectors.conversation_artifacts(user=request.user, conversation_id=conversation_id)
    response = render(request, "artifacts/_conversation_panel.html", {"found": found, "conversation_id": conversation_id})
    patch_cache_control(response, private=True, no_cache=True)
    return response


@login_required
def artifact_edit(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    if artifact.type == ArtifactType.IMAGE and (artifact.metadata or {}).get("binary"):
        messages.warning(request, _("An image cannot be edited as text."))
        return redirect("artifacts:detail", artifact.pk)
    versions = selectors.versions_of(artifact)
    newest = versions[-1] if versions else artifact
    if newest.pk != artifact.pk:  # editing starts from the newest version
        return redirect("artifacts:edit", newest.pk)
    preview = None
    if request.method == "POST" and _too_large_post(request):
        form = EditForm(initial={"name": artifact.name, "content": stored.full_text(artifact), "base": artifact.version})
        return render(request, "artifacts/edit.html", {"form": form, "artifact": artifact, "page_error": _too_large_message(),
                                                       "preview": _body(artifact, _urls(artifact))}, status=413)
    if request.method == "POST":
        form = EditForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["base"] != artifact.version:
                form.add_error(None, services.ArtifactConflict().message)
            elif "preview" in request.POST:
                try:
                    prepared = services.prepare(type=artifact.type, content=form.cleaned_data["content"],
                                                language=(artifact.metadata or {}).get("language", ""),
                                                mime=(artifact.metadata or {}).get("mime", ""),
                                                format=(artifact.metadata or {}).get("format", ""))
                    draft = Artifact(pk=artifact.pk, name=form.cleaned_data["name"], type=artifact.type,
                                     metadata=prepared.metadata, user_id=artifact.user_id, version=artifact.version)
                    preview = rendering.render(draft, form.cleaned_data["content"], frame_url="", image_url="") \
                        if artifact.type not in (ArtifactType.HTML, ArtifactType.IMAGE) else None
                    if preview is None:
                        messages.info(request, _("HTML pages and images are previewed once saved, in their sandbox."))
                except UserFacingError as exc:
                    form.add_error("content", exc.message)
            else:
                try:
                    revised = services.artifact_revise(user=request.user, artifact=artifact,
                                                       content=form.cleaned_data["content"], name=form.cleaned_data["name"])
                except UserFacingError as exc:
                    form.add_error("content", exc.message)
                else:
                    messages.success(request, _("Saved as version %(number)s.") % {"number": revised.version})
                    return redirect("artifacts:detail", revised.pk)
    else:
        form = EditForm(initial={"name": artifact.name, "content": stored.full_text(artifact), "base": artifact.version})
    urls = _urls(artifact)
    return render(request, "artifacts/edit.html", {
        "form": form, "artifact": artifact, "preview": preview if preview is not None else _body(artifact, urls),
        "previewing": preview is not None,
    }, status=400 if form.errors else 200)


@login_required
@require_GET
def artifact_diff(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    versions = selectors.versions_of(artifact)
    newest = versions[-1] if versions else artifact
    old = selectors.version_number(versions, request.GET.get("a")) or (versions[-2] if len(versions) > 1 else artifact)
    new = selectors.version_number(versions, request.GET.get("b")) or newest
    old_full = Artifact.objects.get(pk=old.pk)
    new_full = Artifact.objects.get(pk=new.pk)
    rows = rendering.diff_rows(stored.full_text(old_full), stored.full_text(new_full))
    return render(request, "artifacts/diff.html", {
        "artifact": artifact, "versions": versions, "old": old, "new": new, "rows": rows,
        "added": sum(1 for r in rows if r[0] == "added"), "removed": sum(1 for r in rows if r[0] == "removed"),
    })


@login_required
@require_POST
def artifact_restore(request, artifact_id):
    version = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    versions = selectors.versions_of(version)
    newest = Artifact.objects.get(pk=versions[-1].pk)
    if newest.pk == version.pk:
        messages.info(request, _("This is already the newest version."))
        return redirect("artifacts:detail", version.pk)
    try:
        restored = services.artifact_restore(user=request.user, version=version, newest=newest)
    except UserFacingError as exc:
        messages.error(request, exc.message)
        return redirect("artifacts:detail", version.pk)
    messages.success(request, _("Version %(old)s restored as version %(new)s.") % {"old": version.version, "new": restored.version})
    return redirect("artifacts:detail", restored.pk)


@login_required
@require_POST
def artifact_share(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    token = services.artifact_share(user=request.user, artifact=artifact)
    request.session[NEW_LINK_SESSION_KEY] = {"artifact": str(artifact.pk), "token": token}
    messages.success(request, _("Version %(number)s is public. Copy its link now: it is shown only once.") % {"number": artifact.version})
    return redirect(reverse("artifacts:detail", args=[artifact.pk]) + "#share")


@login_required
@require_POST
def artifact_unshare(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    services.artifact_unshare(artifact=artifact)
    messages.success(request, _("The link no longer works."))
    return redirect("artifacts:detail", artifact.pk)


@login_required
@require_POST
def artifact_delete(request, artifact_id):
    artifact = selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id)
    services.artifacts_delete(user=request.user, roots=[(artifact.metadata or {}).get("root", str(artifact.pk))])
    messages.success(request, _("The artifact and all its versions were deleted."))
    return redirect("artifacts:list")


def _download(artifact: Artifact) -> HttpResponse:
    from storage.serving import content_disposition  # noqa: PLC0415

    name, mime = rendering.download_name_and_type(artifact)
    if artifact.type == ArtifactType.IMAGE and (artifact.metadata or {}).get("binary"):
        data = stored.blob_bytes(artifact)
        if data is None:
            raise Http404
    else:
        text = stored.full_text(artifact)
        if artifact.type == ArtifactType.TABLE:
            text = rendering.table_csv(text, (artifact.metadata or {}).get("format", "markdown"))
        data = text.encode()
    charset = "" if mime.startswith("image/") else "; charset=utf-8"
    response = HttpResponse(data, content_type=f"{mime}{charset}")
    response["Content-Disposition"] = content_disposition("attachment", name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = IMAGE_CSP
    return response


def _frame(artifact: Artifact) -> HttpResponse:
    if artifact.type != ArtifactType.HTML:
        raise Http404
    response = HttpResponse(stored.full_text(artifact), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = FRAME_CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _image(artifact: Artifact) -> HttpResponse:
    if artifact.type != ArtifactType.IMAGE:
        raise Http404
    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    if metadata.get("binary"):
        data = stored.blob_bytes(artifact)
        if data is None:
            raise Http404
        mime = metadata.get("mime", "application/octet-stream")
    else:
        data, mime = stored.full_text(artifact).encode(), "image/svg+xml"
    response = HttpResponse(data, content_type=mime)
    response["Content-Security-Policy"] = IMAGE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Content-Disposition"] = "inline"
    patch_cache_control(response, private=True, max_age=300)
    return response


@login_required
@require_GET
def artifact_download(request, artifact_id):
    return _download(selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id))


@login_required
@require_GET
def artifact_frame(request, artifact_id):
    return _frame(selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id))


@login_required
@require_GET
def artifact_image(request, artifact_id):
    return _image(selectors.artifact_get_for_user(user=request.user, artifact_id=artifact_id))


# --- the public side: /a/<token>/ ----------------------------------------------------------------------


def _public(view):
    """Not indexed, no referrer, not cached; an unknown, malformed or revoked token is a 404 page."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        artifact = selectors.shared_artifact(token)
        if artifact is None:
            response = render(request, "artifacts/share_gone.html", status=404)
        else:
            response = view(request, artifact, token, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapped


@require_GET
@_public
def share_open(request, artifact, token):
    services.share_view_count(artifact)
    urls = _urls(artifact, token)
    return render(request, "artifacts/share.html", {"artifact": artifact, "body": _body(artifact, urls), "urls": urls})


@require_GET
@_public
def share_frame(request, artifact, token):
    return _frame(artifact)


@require_GET
@_public
def share_image(request, artifact, token):
    return _image(artifact)


@require_GET
@_public
def share_download(request, artifact, token):
    return _download(artifact)
