"""Pages of the file manager (``/files/``). Thin: form → one service → redirect/render; every file
sent goes through ``storage.serving.file_response`` after the owner check, with a log row."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from core.errors import UserFacingError
from core.params import query_page, query_text
from core.ratelimit import rate_limited
from core.rowhtml import page_of

from . import selectors, services
from .access import access_record
from .forms import DetailsForm, FolderForm, MoveForm, RenameForm, UploadForm
from .models import FileAction, StorageFolder
from .rows import file_rows
from .serving import file_response, text_head
from .uploads import IMAGE_TYPES, TEXT_TYPES, LimitedUploadHandler, declared_length

PAGE_SIZE = 50
FOLDER_PAGE_SIZE = 60
SEARCH_MAX_LENGTH = 100
TEXT_PREVIEW_BYTES = 64 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and the CSRF token around the files
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3  # one request, all its files together


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _folder_url(folder: StorageFolder | None) -> str:
    return reverse("storage:folder", args=[folder.pk]) if folder is not None else reverse("storage:list")


def _parent_from(request, field: str = "parent") -> StorageFolder | None:
    value = (request.POST.get(field) or "").strip()
    return selectors.folder_get_for_user(user=request.user, folder_id=value) if value else None


def _sort_options() -> list[tuple[str, str]]:
    return [("name", _("Name (A–Z)")), ("-name", _("Name (Z–A)")), ("-date", _("Newest first")),
            ("date", _("Oldest first")), ("-size", _("Largest first")), ("size", _("Smallest first")),
            ("type", _("Type"))]


def _quota(user):
    """The user's quota row with their tier's limits. When they already match, as on almost every
    view, that is one SELECT (``services.quota_sync`` always ran its UPDATE in a savepoint: four
    queries more); otherwise ``quota_sync`` writes them."""
    quota = selectors.quota_for_user(user)
    limits = services.quota_limits_for(user.subscription_tier)
    if quota is None or any(getattr(quota, field) != value for field, value in limits.items()):
        quota = services.quota_sync(user)
    return quota


# The new-folder field as rag/_field.html renders it in an empty form: the same markup for everyone in
# a language (Django's form renderer took about a millisecond a page to make it), made once per
# language and kept; a form with the visitor's input and errors is rendered as it comes.
_EMPTY_FOLDER_FIELD: dict[str, str] = {}


def empty_folder_field() -> str:
    language = translation.get_language()
    html = _EMPTY_FOLDER_FIELD.get(language)
    if html is None:
        html = render_to_string("rag/_field.html", {"field": FolderForm(auto_id="folder-%s")["name"]})
        _EMPTY_FOLDER_FIELD[language] = html
    return html


def _render_list(request, folder: StorageFolder | None, *, folder_form=None, rename_form=None, move_form=None,
                 status: int = 200):
    search = query_text(request, "q", max_length=SEARCH_MAX_LENGTH)
    sort = query_text(request, "sort", max_length=10)
    if sort not in selectors.SORTS:
        sort = selectors.DEFAULT_SORT
    quota = _quota(request.user)
    summary = selectors.quota_summary(quota)
    page = page_of(*selectors.file_page(user=request.user, folder=folder, search=search, sort=sort,
                                        number=query_page(request), size=PAGE_SIZE), PAGE_SIZE)
    folder_page = page_of(*selectors.folder_page(user=request.user, folder=folder, search=search, descending=sort == "-name",
                                                 number=query_page(request, "folders_page"), size=FOLDER_PAGE_SIZE),
                          FOLDER_PAGE_SIZE)
    context = {
        "folder": folder,
        "breadcrumbs": selectors.folder_ancestors(folder),
        "folders": folder_page.object_list,
        "folder_page": folder_page,
        "page": page,
        "rows": file_rows(page.object_list, search=search),
        "search": search,
        "sort": sort,
        "sorts": _sort_options(),
        "quota": summary,
        "chart": {"labels": [c["label"] for c in summary["contexts"]], "bytes": [c["bytes"] for c in summary["contexts"]]},
        "folder_form": folder_form or FolderForm(auto_id="folder-%s"),
        "folder_field": empty_folder_field() if folder_form is None else "",
        "upload_form": UploadForm(auto_id="upload-%s"),
        "max_file_size": summary.get("max_file_size", 0),
        "labels": {
            "uploading": _("Uploading %(name)s"), "done": _("%(name)s: saved"), "existing": _("%(name)s: you already have this file"),
            "failed": _("%(name)s: not saved"), "drop": _("Drop files here to upload them"),
            "tooLarge": _("%(name)s is larger than your plan allows for one file (%(limit)s)."),
            "network": _("The upload was interrupted. Check your connection and try again."),
            "limit": filesizeformat(summary.get("max_file_size", 0)),
        },
    }
    if folder is not None:
        context["rename_form"] = rename_form or RenameForm(initial={"name": folder.name}, auto_id="rename-%s")
        context["move_form"] = move_form or MoveForm(
            initial={"target": str(folder.parent_id or "")}, auto_id="move-%s",
            choices=selectors.folder_choices(user=request.user, exclude=folder),
        )
    return render(request, "storage/list.html", context, status=status)


@login_required
@require_GET
def file_list(request):
    return _render_list(request, None)


@login_required
@require_GET
def folder_detail(request, folder_id):
    return _render_list(request, selectors.folder_get_for_user(user=request.user, folder_id=folder_id))


@login_required
@require_POST
def folder_create(request):
    parent = _parent_from(request)
    form = FolderForm(request.POST, auto_id="folder-%s")
    if form.is_valid():
        try:
            folder = services.folder_create(user=request.user, name=form.cleaned_data["name"], parent=parent)
        except UserFacingError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Folder “%(name)s” created.") % {"name": folder.name})
            return redirect(_folder_url(parent))
    return _render_list(request, parent, folder_form=form, status=400)


@login_required
@require_POST
def folder_rename(request, folder_id):
    folder = selectors.folder_get_for_user(user=request.user, folder_id=folder_id)
    form = RenameForm(request.POST, auto_id="rename-%s")
    if form.is_valid():
        try:
            folder = services.folder_rename(folder=folder, name=form.cleaned_data["name"])
        except UserFacingError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Folder renamed to “%(name)s”.") % {"name": folder.name})
            return redirect(_folder_url(folder))
    return _render_list(request, folder, rename_form=form, status=400)


@login_required
@require_POST
def folder_move(request, folder_id):
    folder = selectors.folder_get_for_user(user=request.user, folder_id=folder_id)
    form = MoveForm(request.POST, auto_id="move-%s", choices=selectors.folder_choices(user=request.user))
    if form.is_valid():
        target = form.cleaned_data["target"]
        parent = selectors.folder_get_for_user(user=request.user, folder_id=target) if target else None
        try:
            folder = services.folder_move(folder=folder, parent=parent)
        except UserFacingError as exc:
            form.add_error("target", exc.message)
        else:
            messages.success(request, _("Folder moved to “%(path)s”.") % {"path": parent.path if parent else _("Files")})
            return redirect(_folder_url(folder))
    form.fields["target"].choices = [("", _("Files (top level)")), *selectors.folder_choices(user=request.user, exclude=folder)]
    return _render_list(request, folder, move_form=form, status=400)


# --- upload -------------------------------------------------------------------------------------------


def _upload_limits(user) -> tuple[int, int]:
    quota = _quota(user)
    file_limit = quota.max_file_size if quota is not None else DEFAULT_MAX_UPLOAD_BYTES
    total = int(getattr(settings, "FILES_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    return file_limit, total


def _upload_refused(request, message: str, folder: StorageFolder | None = None, status: int = 413):
    if _wants_json(request):
        return JsonResponse({"files": [], "errors": [message]}, status=status)
    messages.error(request, message)
    return redirect(_folder_url(folder))


@csrf_exempt
@login_required
@rate_limited("uploads")
def file_upload(request):
    """Upload one or more files. CSRF is checked by ``_upload`` *after* the size guard is in place:
    the CSRF middleware would otherwise read the whole body first."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    file_limit, total = _upload_limits(request.user)
    length = declared_length(request)
    if length > total + FORM_OVERHEAD_BYTES:
        return _upload_refused(request, _("This upload is too large: send at most %(limit)s at once.") % {
            "limit": filesizeformat(total)})
    if request.headers.get("X-File-Upload") == "single" and length > file_limit + FORM_OVERHEAD_BYTES:
        return _upload_refused(request, _("This file is larger than your plan allows for one file (%(limit)s).") % {
            "limit": filesizeformat(file_limit)})  # one file per request (the page's script): refused unread
    guard = LimitedUploadHandler(request, limit=total, file_limit=file_limit)
    request.upload_handlers.insert(0, guard)
    return _upload(request, guard, file_limit)


@csrf_protect
def _upload(request, guard: LimitedUploadHandler, file_limit: int):
    uploads = request.FILES.getlist("files")  # parses the body through the guard
    if guard.exceeded:
        name = guard.exceeded_name
        message = (_("“%(name)s” is larger than your plan allows for one file (%(limit)s). Nothing was saved.")
                   % {"name": name, "limit": filesizeformat(file_limit)}) if name else \
            _("This upload is too large. Nothing was saved.")
        return _upload_refused(request, message)
    folder = _parent_from(request, "folder")
    stored, errors = [], []
    received = [r for r in guard.received_files if r.field_name == "files"]
    for index, uploaded in enumerate(uploads):
        checksum = received[index].checksum if index < len(received) and received[index].size == uploaded.size else None
        try:
            outcome = services.file_upload(user=request.user, uploaded=uploaded, folder=folder, checksum=checksum)
        except UserFacingError as exc:
            errors.append(exc.message)
            continue
        file = outcome.file
        if not outcome.existing:
            access_record(file, FileAction.UPLOAD, request)
        stored.append({"id": str(file.pk), "name": file.filename, "existing": outcome.existing,
                       "url": reverse("storage:file", args=[file.pk]),
                       "folder": file.folder.path if file.folder_id and file.folder else ""})
    if not uploads:
        errors.append(_("Choose at least one file to upload."))
    status = 200 if stored else 400
    if _wants_json(request):
        return JsonResponse({"files": stored, "errors": errors}, status=status)
    for item in stored:
        if item["existing"]:
            messages.info(request, _("You already have “%(name)s” (the same content); it was not saved twice.")
                          % {"name": item["name"]})
        else:
            messages.success(request, _("“%(name)s” uploaded.") % {"name": item["name"]})
    for error in errors:
        messages.error(request, error)
    return redirect(_folder_url(folder))


# --- one file -----------------------------------------------------------------------------------------


def _render_file(request, file, *, rename_form=None, move_form=None, details_form=None, status: int = 200):
    preview = "image" if file.mime_type in IMAGE_TYPES else "pdf" if file.mime_type == "application/pdf" else \
        "text" if (file.mime_type in TEXT_TYPES or file.mime_type.startswith("text/")) else ""
    head = text_head(file, TEXT_PREVIEW_BYTES) if preview == "text" else ("", False)
    if head is None:
        preview, head = "unreadable", ("", False)
    context = {
        "file": file,
        "breadcrumbs": selectors.folder_ancestors(file.folder),
        "preview": preview,
        "text": head[0],
        "text_cut": head[1],
        "rename_form": rename_form or RenameForm(initial={"name": file.filename}, auto_id="rename-%s"),
        "move_form": move_form or MoveForm(initial={"target": str(file.folder_id or "")}, auto_id="move-%s",
                                           choices=selectors.folder_choices(user=request.user)),
        "details_form": details_form or DetailsForm(initial={
            "usage_context": file.usage_context, "access_level": file.access_level, "expires_at": file.expires_at,
        }, auto_id="details-%s"),
    }
    return render(request, "storage/file.html", context, status=status)


@login_required
@require_GET
def file_detail(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    access_record(file, FileAction.VIEW, request)
    return _render_file(request, file)


def _first_request(request) -> bool:
    """Not a continuation of an interrupted transfer (a range that starts past the first byte)."""
    wanted = request.headers.get("Range", "")
    return not wanted or wanted.replace(" ", "").startswith(("bytes=0-",))


@login_required
@require_GET
def file_download(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    if _first_request(request):
        access_record(file, FileAction.DOWNLOAD, request)
    return file_response(request, file, inline=False)


@login_required
@require_GET
def file_preview(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    if _first_request(request):
        access_record(file, getattr(FileAction, "PREVIEW", FileAction.VIEW), request)
    return file_response(request, file, inline=True)


@login_required
@require_POST
def file_rename(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    form = RenameForm(request.POST, auto_id="rename-%s")
    if form.is_valid():
        try:
            services.file_rename(file=file, name=form.cleaned_data["name"])
        except UserFacingError as exc:
            form.add_error("name", exc.message)
        else:
            access_record(file, FileAction.RENAME, request)
            messages.success(request, _("Renamed to “%(name)s”.") % {"name": file.filename})
            return redirect("storage:file", file.pk)
    return _render_file(request, file, rename_form=form, status=400)


@login_required
@require_POST
def file_move(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    choices = selectors.folder_choices(user=request.user)
    form = MoveForm(request.POST, auto_id="move-%s", choices=choices)
    if form.is_valid():
        target = form.cleaned_data["target"]
        folder = selectors.folder_get_for_user(user=request.user, folder_id=target) if target else None
        try:
            services.file_move(file=file, folder=folder)
        except UserFacingError as exc:
            form.add_error("target", exc.message)
        else:
            access_record(file, FileAction.MOVE, request)
            messages.success(request, _("“%(name)s” moved to “%(path)s”.") % {
                "name": file.filename, "path": folder.path if folder else _("Files")})
            return redirect("storage:file", file.pk)
    return _render_file(request, file, move_form=form, status=400)


@login_required
@require_POST
def file_details(request, file_id):
    file = selectors.file_get_for_user(user=request.user, file_id=file_id)
    form = DetailsForm(request.POST, auto_id="details-%s")
    if form.is_valid():
        try:
            services.file_update_details(file=file, **form.cleaned_data)
        except UserFacingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Details saved."))
            return redirect("storage:file", file.pk)
    return _render_file(request, file, details_form=form, status=400)
