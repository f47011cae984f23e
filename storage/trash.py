"""The trash (issue 09 item 7): deleting a file sets ``deleted_at``; the trash page restores it or
deletes it for good (row and blob, ``services.file_delete``); files in the trash longer than
``STORAGE_TRASH_RETENTION_DAYS`` (30) are purged by beat (``storage.purge_trash``) and by
``manage.py purge_trash``.

The quota follows through the triggers on ``storage_files``: a file in the trash stops counting, a
restore counts again and is refused like an upload when it no longer fits (``QuotaExceeded``).
A restored file goes back to its folder, or to the top level when that folder is gone (its
``folder_id`` was set to NULL when the folder was deleted), under a name no live file there has.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import UserFacingError
from core.tenancy import bypass, tenant

from .access import access_record
from .errors import storage_error_for
from .models import FileAction, StorageFile
from .services import file_delete, unique_file_name


class TrashError(UserFacingError):
    pass


def retention_days() -> int:
    return int(getattr(settings, "STORAGE_TRASH_RETENTION_DAYS", 30))


def trash_files(user) -> QuerySet[StorageFile]:
    """The user's files in the trash, most recently deleted first (call in the user's context)."""
    return StorageFile.objects.filter(user_id=user.id, deleted_at__isnull=False).order_by("-deleted_at", "-id")


def trashed_file(user, file_id) -> StorageFile | None:
    with tenant(user.id):
        return StorageFile.objects.select_related("folder").filter(pk=file_id, user_id=user.id, deleted_at__isnull=False).first()


def file_trash(*, file: StorageFile, request=None) -> StorageFile:
    """Move the file to the trash (its links stop serving it at once); a second call changes nothing."""
    now = timezone.now()
    with tenant(file.user_id):
        if StorageFile.objects.filter(pk=file.pk, deleted_at__isnull=True).update(deleted_at=now):
            file.deleted_at = now
            access_record(file, FileAction.DELETE, request)
    return file


def file_restore(*, user, file: StorageFile, request=None) -> StorageFile:
    """Bring ``file`` back from the trash, to its folder or the top level, with a unique name there.

    Raises ``QuotaExceeded`` (nothing changed) when it no longer fits the quota."""
    with tenant(user.id):
        current = StorageFile.objects.select_related("folder").filter(pk=file.pk, user_id=user.id, deleted_at__isnull=False).first()
        if current is None:
            raise TrashError(_("This file is no longer in the trash."))
        name = unique_file_name(user=user, folder=current.folder, name=current.filename)
        try:
            with transaction.atomic():
                StorageFile.objects.filter(pk=current.pk).update(deleted_at=None, filename=name)
        except IntegrityError as exc:
            refusal = storage_error_for(exc)
            if refusal is None:
                raise
            raise refusal from exc
        current.deleted_at, current.filename = None, name
        access_record(current, FileAction.RESTORE, request)
    return current


def file_delete_forever(*, user, file: StorageFile) -> None:
    """Delete a file that is in the trash: its row now, its blob when the transaction commits."""
    current = trashed_file(user, file.pk)
    if current is None:
        raise TrashError(_("This file is no longer in the trash."))
    file_delete(file=current)


def trash_empty(*, user) -> int:
    """Delete every file in the user's trash for good; how many."""
    with tenant(user.id):
        files = list(trash_files(user).only("id", "user_id", "storage_path"))
    for file in files:
        file_delete(file=file)
    return len(files)


def trash_purge_expired(*, now: datetime | None = None) -> int:
    """Delete for good every file (any owner's) in the trash for longer than the retention period."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    with bypass("storage: purge files kept in the trash past the retention period"):
        files = list(StorageFile.objects.filter(deleted_at__lt=cutoff).only("id", "user_id", "storage_path"))
    for file in files:
        file_delete(file=file)
    return len(files)
