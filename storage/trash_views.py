"""The trash page (``/files/trash/``): files deleted from the file manager, restored or deleted for good."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import UserFacingError
from core.params import query_page
from core.tenancy import tenant

from . import trash
from .models import StorageFile

PAGE_SIZE = 50


@login_required
@require_GET
def trash_list(request):
    with tenant(request.user.id):
        page = Paginator(trash.trash_files(request.user).select_related("folder"), PAGE_SIZE).get_page(query_page(request))
        return render(request, "storage/trash.html", {
            "page": page, "files": list(page.object_list), "retention_days": trash.retention_days(),
        })


@login_required
@require_POST
def trash_add(request, file_id):
    """The file page's "Move to trash": back to the file's folder, saying where it went."""
    with tenant(request.user.id):
        file = StorageFile.objects.filter(pk=file_id, user_id=request.user.id, deleted_at__isnull=True).first()
    if file is None:
        raise Http404
    trash.file_trash(file=file, request=request)
    messages.success(request, _("“%(name)s” was moved to the trash.") % {"name": file.filename})
    return redirect("storage:folder", file.folder_id) if file.folder_id else redirect("storage:list")


@login_required
@require_POST
def trash_restore(request, file_id):
    file = trash.trashed_file(request.user, file_id)
    if file is None:
        raise Http404
    try:
        restored = trash.file_restore(user=request.user, file=file, request=request)
    except UserFacingError as exc:
        messages.error(request, exc.message)
    else:
        if restored.folder_id:
            messages.success(request, _("“%(name)s” is back in %(folder)s.") % {"name": restored.filename, "folder": restored.folder.path})
        else:
            messages.success(request, _("“%(name)s” is back, at the top level of your files.") % {"name": restored.filename})
    return redirect("shares_owner:trash")


@login_required
@require_POST
def trash_delete(request, file_id):
    file = trash.trashed_file(request.user, file_id)
    if file is None:
        raise Http404
    trash.file_delete_forever(user=request.user, file=file)
    messages.success(request, _("“%(name)s” was deleted for good.") % {"name": file.filename})
    return redirect("shares_owner:trash")


@login_required
@require_POST
def trash_empty(request):
    count = trash.trash_empty(user=request.user)
    messages.success(request, _("The trash is empty.") if count else _("The trash was already empty."))
    return redirect("shares_owner:trash")
