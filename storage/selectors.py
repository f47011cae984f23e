"""Reads of the storage domain, always scoped to the person asking (another user's file or folder
is a 404), and never a file in the trash or past its expiry."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import StorageFile, StorageFolder, StorageQuota, UsageContext

# What a list row shows.
LIST_FIELDS = ("id", "filename", "mime_type", "size", "created_at", "usage_context", "access_level", "is_processed",
               "expires_at", "folder_id", "user_id", "checksum")
SORTS = {
    "name": ("filename", "id"), "-name": ("-filename", "-id"),
    "size": ("size", "id"), "-size": ("-size", "-id"),
    "date": ("created_at", "id"), "-date": ("-created_at", "-id"),
    "type": ("mime_type", "filename", "id"), "-type": ("-mime_type", "-filename", "-id"),
}
DEFAULT_SORT = "name"


def _live(queryset: QuerySet[StorageFile]) -> QuerySet[StorageFile]:
    return queryset.filter(deleted_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def _uuid(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def folder_get_for_user(*, user, folder_id) -> StorageFolder:
    folder = StorageFolder.objects.filter(pk=_uuid(folder_id), user_id=user.pk).first()
    if folder is None:
        raise Http404
    return folder


def file_get_for_user(*, user, file_id) -> StorageFile:
    file = _live(StorageFile.objects.filter(pk=_uuid(file_id), user_id=user.pk)).select_related("folder").first()
    if file is None:
        raise Http404
    return file


def folder_ancestors(folder: StorageFolder | None) -> list[StorageFolder]:
    """The breadcrumb: the folders from the top down to ``folder`` (included), in one query."""
    if folder is None:
        return []
    parts = folder.path.split("/")
    paths = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    by_path = {f.path: f for f in StorageFolder.objects.filter(user_id=folder.user_id, path__in=paths).only("id", "name", "path")}
    return [by_path[p] for p in paths if p in by_path]


def folder_children(*, user, folder: StorageFolder | None) -> QuerySet[StorageFolder]:
    return StorageFolder.objects.filter(user_id=user.pk, parent=folder).only("id", "name", "path", "parent_id").order_by("name", "id")


def files_in_folder(*, user, folder: StorageFolder | None, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet[StorageFile]:
    """The folder's files (with ``search``: files whose name contains it, in every folder)."""
    queryset = _live(StorageFile.objects.filter(user_id=user.pk)).only(*LIST_FIELDS)
    if search:
        queryset = queryset.filter(filename__icontains=search).select_related("folder").only(*LIST_FIELDS, "folder__path", "folder__name")
    else:
        queryset = queryset.filter(folder=folder)
    return queryset.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def folders_matching(*, user, search: str) -> QuerySet[StorageFolder]:
    return StorageFolder.objects.filter(user_id=user.pk, name__icontains=search).only("id", "name", "path").order_by("path")


def folder_choices(*, user, exclude: StorageFolder | None = None) -> list[tuple[str, str]]:
    """Every folder as (id, path) for a move form; without ``exclude`` and the folders under it."""
    queryset = StorageFolder.objects.filter(user_id=user.pk).only("id", "path").order_by("path")
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk).exclude(path__startswith=exclude.path + "/")
    return [(str(f.pk), f.path) for f in queryset]


def file_with_checksum(*, user, checksum: str) -> StorageFile | None:
    return StorageFile.objects.filter(user_id=user.pk, checksum=checksum).first()


def quota_for_user(user) -> StorageQuota | None:
    return StorageQuota.objects.filter(user_id=user.pk).first()


def quota_summary(quota: StorageQuota | None) -> dict:
    """Used vs max and the breakdown per usage context, for the files page and the Usage card."""
    if quota is None:
        return {"used": 0, "max": 0, "percent": 0, "files": 0, "max_files": 0, "contexts": []}
    labels = dict(UsageContext.choices)
    contexts = []
    for key, label in labels.items():
        entry = (quota.usage_breakdown or {}).get(key) or {}
        if int(entry.get("bytes") or 0) > 0 or int(entry.get("files") or 0) > 0:
            contexts.append({"key": key, "label": str(label), "bytes": int(entry.get("bytes") or 0),
                             "files": int(entry.get("files") or 0)})
    percent = min(100, round(100 * quota.used_storage / quota.max_storage)) if quota.max_storage else 100
    return {
        "used": quota.used_storage, "max": quota.max_storage, "percent": percent, "files": quota.file_count,
        "max_files": quota.max_files, "max_file_size": quota.max_file_size, "contexts": contexts,
        "level": "danger" if percent >= 90 else "warning" if percent >= 75 else "ok",
    }
