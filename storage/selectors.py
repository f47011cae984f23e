"""Reads of the storage domain, always scoped to the person asking (another user's file or folder
is a 404), and never a file in the trash or past its expiry."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.search import folded_like_sql, like_pattern

from .models import StorageFile, StorageFolder, StorageQuota, UsageContext

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


class FileRow(NamedTuple):
    """What a row of the files list shows (``folder_path`` only in search results)."""

    id: uuid.UUID
    filename: str
    mime_type: str
    size: int
    created_at: dt.datetime
    is_processed: bool
    folder_id: uuid.UUID | None
    folder_path: str | None


class FolderRow(NamedTuple):
    id: uuid.UUID
    name: str
    path: str


# One page of a list and how many rows match, in one query (written out: the ORM took longer to
# compile a count and a page than PostgreSQL takes to answer them). A page past the end is the last
# page, as Django's Paginator.get_page has it.
_PAGE_SQL = """
WITH matched AS (SELECT count(*) AS n FROM {table} WHERE {where})
SELECT matched.n, page.* FROM matched LEFT JOIN LATERAL (
    SELECT {columns} FROM {table}{join}
    WHERE {where}
    ORDER BY {order}
    LIMIT %(size)s OFFSET (SELECT (least(%(page)s, greatest(1, ceil(n::numeric / %(size)s)::int)) - 1) * %(size)s FROM matched)
) page ON true
"""
# _live() written out.
_FILES_WHERE = "f.user_id = %(user)s AND f.deleted_at IS NULL AND (f.expires_at IS NULL OR f.expires_at > %(now)s)"
_FILE_COLUMNS = "f.id, f.filename, f.mime_type, f.size, f.created_at, f.is_processed, f.folder_id"



def _order_by(alias: str, fields: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{name.lstrip('-')} {'DESC' if name.startswith('-') else 'ASC'}" for name in fields)


def _page(sql: str, params: dict, number: int, size: int) -> tuple[int, int, list[tuple]]:
    params = {**params, "page": max(1, int(number)), "size": size}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = rows[0][0]
    pages = max(1, -(-total // size))
    return total, min(params["page"], pages), [row[1:] for row in rows if row[1] is not None]


def file_page(*, user, folder: StorageFolder | None, search: str = "", sort: str = DEFAULT_SORT, number: int = 1,
              size: int) -> tuple[int, int, list[FileRow]]:
    """(how many files match, the page shown, its rows) of the folder's live files (with ``search``:
    files whose name contains it, in every folder, each with its folder's path), sorted by ``sort``."""
    params: dict = {"user": user.pk, "now": timezone.now()}
    where = [_FILES_WHERE]
    columns, join = _FILE_COLUMNS + ", NULL::text", ""
    if search:
        where.append(folded_like_sql("f.filename", "q"))
        params["q"] = like_pattern(search)
        columns, join = _FILE_COLUMNS + ", d.path", " LEFT JOIN storage_folders d ON d.id = f.folder_id"
    elif folder is None:
        where.append("f.folder_id IS NULL")
    else:
        where.append("f.folder_id = %(folder)s")
        params["folder"] = folder.pk
    sql = _PAGE_SQL.format(table="storage_files f", where=" AND ".join(where), columns=columns, join=join,
                           order=_order_by("f", SORTS.get(sort, SORTS[DEFAULT_SORT])))
    total, shown, rows = _page(sql, params, number, size)
    return total, shown, [FileRow(*row) for row in rows]


def folder_page(*, user, folder: StorageFolder | None, search: str = "", descending: bool = False, number: int = 1,
                size: int) -> tuple[int, int, list[FolderRow]]:
    """(how many, the page shown, its rows) of the folder's subfolders by name, or with ``search``
    every folder whose name contains it, by path; ``descending`` turns the order round."""
    params: dict = {"user": user.pk}
    where = ["d.user_id = %(user)s"]
    if search:
        where.append(folded_like_sql("d.name", "q"))
        params["q"] = like_pattern(search)
        order: tuple[str, ...] = ("path",)
    else:
        if folder is None:
            where.append("d.parent_id IS NULL")
        else:
            where.append("d.parent_id = %(folder)s")
            params["folder"] = folder.pk
        order = ("name", "id")
    if descending:
        order = tuple(f"-{name}" for name in order)
    sql = _PAGE_SQL.format(table="storage_folders d", where=" AND ".join(where), columns="d.id, d.name, d.path",
                           join="", order=_order_by("d", order))
    total, shown, rows = _page(sql, params, number, size)
    return total, shown, [FolderRow(*row) for row in rows]


def folder_choices(*, user, exclude: StorageFolder | None = None) -> list[tuple[str, str]]:
    """Every folder as (id, path) for a move form; without ``exclude`` and the folders under it."""
    queryset = StorageFolder.objects.filter(user_id=user.pk).only("id", "path").order_by("path")
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk).exclude(path__startswith=exclude.path + "/")
    return [(str(f.pk), f.path) for f in queryset]


def file_with_checksum(*, user, checksum: str) -> StorageFile | None:
    return StorageFile.objects.filter(user_id=user.pk, checksum=checksum).first()


_QUOTA_FIELDS = [f for f in StorageQuota._meta.concrete_fields]
_QUOTA_SQL = f"SELECT {', '.join(f.column for f in _QUOTA_FIELDS)} FROM storage_quotas WHERE user_id = %s LIMIT 1"


def quota_for_user(user) -> StorageQuota | None:
    """The user's quota row (written out: one row on every files page and usage card)."""
    with connection.cursor() as cursor:
        cursor.execute(_QUOTA_SQL, [user.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, field in enumerate(_QUOTA_FIELDS):
        for converter in field.get_db_converters(connection):
            values[index] = converter(values[index], None, connection)
    return StorageQuota.from_db(connection.alias, [f.attname for f in _QUOTA_FIELDS], values)


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
