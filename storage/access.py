"""The file access log: one ``file_access_logs`` row for every view, preview, download, upload,
rename and move, whoever asks (the owner in the file manager, a visitor through a share link).

``access_record`` is the one writer; the owner column is filled by the table's trigger. It runs
in the owner's row-level security context (a visitor through a link has none of their own).
"""

from __future__ import annotations

from accounts.sessions import client_ip
from core.tenancy import tenant

from .models import FileAccessLog, StorageFile


def _has_share_column() -> bool:
    return any(field.name == "share" for field in FileAccessLog._meta.get_fields())


def access_record(file: StorageFile, action: str, request=None, share=None) -> FileAccessLog:
    """Record that ``action`` (a ``FileAction``) happened to ``file``: the acting user when signed
    in, the client's address, and the share link when the access came through one (kept when the
    table has a column for it)."""
    user = getattr(request, "user", None) if request is not None else None
    values = {
        "file_id": file.pk,
        "action": str(action),
        "user_id": user.pk if user is not None and user.is_authenticated else None,
        "ip_address": client_ip(request) if request is not None else None,
    }
    if share is not None and _has_share_column():
        values["share"] = share
    with tenant(file.user_id):
        return FileAccessLog.objects.create(**values)
