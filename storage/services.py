"""Writes of the storage domain: a file's blob and its ``storage_files`` row, stored and deleted
together. Every domain that keeps files (documents now; files, artifacts, support and finance
later) goes through here, so quota, checksum and naming rules hold in one place.

The quota is enforced by a trigger on ``storage_files`` (exact under concurrency); its refusal
arrives as an ``IntegrityError`` and leaves here as a ``QuotaExceeded`` (``storage.errors``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.tenancy import bypass, tenant

from . import scanning
from .backends import file_storage
from .errors import (
    DuplicateFile,
    DuplicateInTrash,
    EmptyFile,
    FileInfected,
    FileNameTaken,
    FolderNameTaken,
    FolderTooDeep,
    MoveRefused,
    QuotaExceeded,
    ScanFailed,
    StorageWriteFailed,
    storage_error_for,
)
from .models import AccessLevel, StorageFile, StorageFolder, StorageQuota, UsageContext
from .uploads import DEFAULT_MIME_TYPE, NAME_MAX_BYTES, safe_file_name

logger = logging.getLogger("storage")

_SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")
READ_CHUNK_BYTES = 256 * 1024
__all__ = ["DEFAULT_MIME_TYPE", "NAME_MAX_BYTES"]

# Limits per subscription tier (settings.STORAGE_TIER_LIMITS overrides any of them).
DEFAULT_TIER_LIMITS = {
    "FREE": {"max_storage": 1024 ** 3, "max_file_size": 100 * 1024 ** 2, "max_files": 1000},
    "PRO": {"max_storage": 20 * 1024 ** 3, "max_file_size": 1024 ** 3, "max_files": 20_000},
    "ENTERPRISE": {"max_storage": 200 * 1024 ** 3, "max_file_size": 5 * 1024 ** 3, "max_files": 200_000},
}


def stored_file_name(raw: str | None) -> str:
    """The upload's name made safe to store and show (``storage.uploads.safe_file_name``)."""
    return safe_file_name(raw)


def storage_path(*, user_id, file_id, name: str, usage_context: str = UsageContext.GENERAL) -> str:
    """Where the blob goes: ``<context>/<user id>/<file id><extension>`` (ids only, never the name,
    whose extension is kept only when it is short and plain)."""
    suffix = PurePosixPath(name).suffix.lower()
    return f"{str(usage_context).lower()}/{user_id}/{file_id}{suffix if _SAFE_EXTENSION.match(suffix) else ''}"


def _pieces(content: bytes | File):
    if isinstance(content, (bytes, bytearray)):
        yield bytes(content)
        return
    content.seek(0)
    yield from content.chunks(READ_CHUNK_BYTES)


def _read(content: bytes | File, *, scan: bool, expected_checksum: str | None = None) -> tuple[File, int, str, bool]:
    """One pass over the content: its size, its SHA-256 and, when scanning is on, clamd's verdict
    (``FileInfected`` / ``ScanFailed`` when it is not clean). Returns the content as a Django File
    (rewound), its size, its checksum and whether it was scanned."""
    if not scan and expected_checksum and not isinstance(content, (bytes, bytearray)) and content.size is not None:
        # Hashed by the upload handler as the bytes arrived; without a scan there is no need for another pass.
        content.seek(0)
        return content, content.size, expected_checksum, False
    session = None
    digest, size = hashlib.sha256(), 0
    try:
        session = scanning.ScanSession() if scan else None
        for piece in _pieces(content):
            digest.update(piece)
            size += len(piece)
            if session is not None:
                session.send(piece)
        verdict = session.verdict() if session is not None else None
    except scanning.ScanUnavailable as exc:
        logger.error("virus scan failed: %s", exc)
        raise ScanFailed() from exc
    finally:
        if session is not None:
            session.close()
    if verdict is not None and not verdict.clean:
        raise FileInfected(verdict.signature)
    checksum = digest.hexdigest()
    if expected_checksum and expected_checksum != checksum:  # the upload changed under us: refuse
        raise ScanFailed()
    if isinstance(content, (bytes, bytearray)):
        return ContentFile(bytes(content)), size, checksum, verdict is not None
    content.seek(0)
    return content, size, checksum, verdict is not None


def quota_limits_for(tier: str) -> dict[str, int]:
    configured = getattr(settings, "STORAGE_TIER_LIMITS", None) or {}
    limits = dict(DEFAULT_TIER_LIMITS.get(tier, DEFAULT_TIER_LIMITS["FREE"]))
    limits.update({k: int(v) for k, v in (configured.get(tier) or {}).items() if k in limits and v is not None})
    return limits


def quota_sync(user) -> StorageQuota | None:
    """Make the user's quota row carry their tier's limits (one UPDATE, only when they differ)."""
    limits = quota_limits_for(user.subscription_tier)
    with tenant(user.id):
        differs = ~(Q(max_storage=limits["max_storage"]) & Q(max_file_size=limits["max_file_size"])
                    & Q(max_files=limits["max_files"]))
        StorageQuota.objects.filter(user_id=user.id).filter(differs).update(**limits)
        return StorageQuota.objects.filter(user_id=user.id).first()


def _precheck_quota(user, size: int) -> None:
    """Refuse early (before the blob is written) what the trigger would refuse; the trigger stays
    the exact guard under concurrency."""
    with tenant(user.id):
        quota = StorageQuota.objects.filter(user_id=user.id).first()
    if quota is None:
        return
    if size > quota.max_file_size:
        raise QuotaExceeded("max_file_size")
    if quota.used_storage + size > quota.max_storage:
        raise QuotaExceeded("max_storage")
    if quota.file_count + 1 > quota.max_files:
        raise QuotaExceeded("max_files")


@transaction.atomic
def file_store(*, user, content: bytes | File, name: str, mime_type: str = "", folder: StorageFolder | None = None,
               usage_context: str = UsageContext.GENERAL, checksum: str | None = None, filename: str | None = None,
               access_level: str = AccessLevel.PRIVATE, expires_at=None) -> StorageFile:
    """Store ``content`` for ``user`` as a file called ``name`` (made safe by ``stored_file_name``):
    scanned by clamd when configured (``FileInfected``, ``ScanFailed``), the blob in the storage,
    then its row (checksum, size, type) in a savepoint. ``filename`` is the name shown when it
    differs from the original (a unique name in its folder).

    Raises ``QuotaExceeded`` when the file does not fit the user's quota and ``DuplicateFile`` when
    the user already holds the same content; either way no row and no blob are left. (Storage is
    not transactional: should the caller's transaction roll back after this returns, the row goes
    and the blob stays.)
    """
    name = stored_file_name(name)
    file_id = uuid.uuid4()
    try:
        blob, size, digest, scanned = _read(content, scan=scanning.scanning_enabled(), expected_checksum=checksum)
    except FileInfected as exc:
        logger.warning("infected file refused and not stored: user %s, name %r, signature %s", user.id, name, exc.signature)
        raise
    _precheck_quota(user, size)
    storage = file_storage()
    wanted = storage_path(user_id=user.id, file_id=file_id, name=name, usage_context=usage_context)
    try:
        path = storage.save(wanted, blob)
    except BLOB_WRITE_ERRORS as exc:
        logger.error("storage refused the blob of %r for user %s: %s", name, user.id, exc)
        _remove_partial(storage, wanted)  # a write that failed half-way leaves its first bytes behind
        raise StorageWriteFailed() from exc
    try:
        with tenant(user.id), transaction.atomic():
            return StorageFile.objects.create(
                id=file_id, user=user, folder=folder, filename=stored_file_name(filename or name), original_name=name,
                storage_path=path, mime_type=(mime_type or DEFAULT_MIME_TYPE)[:255], size=size, checksum=digest,
                usage_context=usage_context, access_level=access_level, expires_at=expires_at, is_processed=scanned,
            )
    except IntegrityError as exc:
        storage.delete(path)
        refusal = storage_error_for(exc)
        if refusal is None:
            raise
        raise refusal from exc
    except BaseException:
        storage.delete(path)
        raise


def _blob_write_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:  # boto3 is only needed with STORAGE_BACKEND=s3
        pass
    return tuple(errors)


BLOB_WRITE_ERRORS = _blob_write_errors()


def _remove_partial(storage, path: str) -> None:
    try:  # the path holds this new file's id: nothing else can live there
        if storage.exists(path):
            storage.delete(path)
    except BLOB_WRITE_ERRORS as exc:
        logger.error("could not remove the partial blob %s: %s", path, exc)


def file_delete(*, file: StorageFile) -> None:
    """Delete the file's row now and its blob once the transaction commits (a rollback keeps both)."""
    path = file.storage_path
    with tenant(file.user_id), transaction.atomic():
        deleted, _ = StorageFile.objects.filter(pk=file.pk).delete()
        if deleted:  # a row the tenant cannot see is not theirs, and neither is its blob
            transaction.on_commit(lambda: file_storage().delete(path))


# --- the file manager: folders, names, moves, details, uploads ------------------------------------

PATH_MAX = 2000
_REPATH_SQL = """
UPDATE storage_folders
   SET path = %(new)s || substr(path, %(cut)s),
       name = CASE WHEN id = %(id)s THEN %(name)s ELSE name END,
       parent_id = CASE WHEN id = %(id)s THEN %(parent)s ELSE parent_id END
 WHERE user_id = %(user)s AND (id = %(id)s OR left(path, %(prefix_length)s) = %(prefix)s)
"""
_DEEPEST_SQL = """
SELECT coalesce(max(length(path)), 0) FROM storage_folders
 WHERE user_id = %(user)s AND (id = %(id)s OR left(path, %(prefix_length)s) = %(prefix)s)
"""


def _lock_tree(user_id) -> None:
    """One change to a user's folder tree at a time (two crossed moves could otherwise make a cycle)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('storage_folders:' || %s, 0))", [str(user_id)])


def _child_path(parent: StorageFolder | None, name: str) -> str:
    return f"{parent.path}/{name}" if parent is not None else name


def folder_create(*, user, name: str, parent: StorageFolder | None = None) -> StorageFolder:
    name = name.strip()
    path = _child_path(parent, name)
    if len(path) > PATH_MAX:
        raise FolderTooDeep()
    try:
        with tenant(user.id), transaction.atomic():
            _lock_tree(user.id)
            return StorageFolder.objects.create(user=user, name=name, parent=parent, path=path)
    except IntegrityError as exc:
        if "storage_folders_user_path_unique" in str(exc):
            raise FolderNameTaken(name) from exc
        raise


def _repath(folder: StorageFolder, *, name: str, parent: StorageFolder | None) -> StorageFolder:
    """Give ``folder`` its new name and parent, and every folder under it its new path, in one
    statement (an update by path prefix) inside one transaction."""
    with tenant(folder.user_id), transaction.atomic():
        _lock_tree(folder.user_id)
        current = StorageFolder.objects.get(pk=folder.pk)  # the path as it is now, under the lock
        if parent is not None:
            parent = StorageFolder.objects.get(pk=parent.pk)
            if parent.pk == current.pk or parent.path.startswith(current.path + "/"):
                raise MoveRefused()
        new_path = _child_path(parent, name)
        params = {
            "new": new_path, "cut": len(current.path) + 1, "id": current.pk, "name": name,
            "parent": parent.pk if parent is not None else None, "user": current.user_id,
            "prefix": current.path + "/", "prefix_length": len(current.path) + 1,
        }
        with connection.cursor() as cursor:
            cursor.execute(_DEEPEST_SQL, params)
            deepest = cursor.fetchone()[0]
        if deepest - len(current.path) + len(new_path) > PATH_MAX:
            raise FolderTooDeep()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_REPATH_SQL, params)
        except IntegrityError as exc:
            if "storage_folders_user_path_unique" in str(exc):
                raise FolderNameTaken(name) from exc
            raise
        except DataError as exc:
            raise FolderTooDeep() from exc
        return StorageFolder.objects.get(pk=current.pk)


def folder_rename(*, folder: StorageFolder, name: str) -> StorageFolder:
    name = name.strip()
    if name == folder.name:
        return folder
    return _repath(folder, name=name, parent=folder.parent)


def folder_move(*, folder: StorageFolder, parent: StorageFolder | None) -> StorageFolder:
    if (parent.pk if parent else None) == folder.parent_id:
        return folder
    return _repath(folder, name=folder.name, parent=parent)


def _name_taken(user_id, folder_id, name: str, *, exclude=None) -> bool:
    queryset = StorageFile.objects.filter(user_id=user_id, folder_id=folder_id, filename=name, deleted_at__isnull=True)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.exists()


def unique_file_name(*, user, folder: StorageFolder | None, name: str) -> str:
    """``name``, or ``stem (2).ext``, ``stem (3).ext``… when the folder already has a file by that name."""
    with tenant(user.id):
        taken = set(StorageFile.objects.filter(
            user_id=user.id, folder=folder, deleted_at__isnull=True,
            filename__startswith=PurePosixPath(name).stem[:200],
        ).values_list("filename", flat=True))
    if name not in taken:
        return name
    suffix = PurePosixPath(name).suffix if len(PurePosixPath(name).suffix) <= 20 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    for number in range(2, len(taken) + 3):
        candidate = safe_file_name(f"{stem} ({number}){suffix}")
        if candidate not in taken:
            return candidate
    return safe_file_name(f"{stem} ({uuid.uuid4().hex[:8]}){suffix}")


def file_rename(*, file: StorageFile, name: str) -> StorageFile:
    name = name.strip()
    with tenant(file.user_id), transaction.atomic():
        if _name_taken(file.user_id, file.folder_id, name, exclude=file.pk):
            raise FileNameTaken(name)
        StorageFile.objects.filter(pk=file.pk).update(filename=name)
        file.filename = name
    return file


def file_move(*, file: StorageFile, folder: StorageFolder | None) -> StorageFile:
    with tenant(file.user_id), transaction.atomic():
        if _name_taken(file.user_id, folder.pk if folder else None, file.filename, exclude=file.pk):
            raise FileNameTaken(file.filename)
        StorageFile.objects.filter(pk=file.pk).update(folder=folder)
        file.folder = folder
    return file


def file_update_details(*, file: StorageFile, usage_context: str, access_level: str, expires_at) -> StorageFile:
    """Change what the file is used for (the quota breakdown follows through the trigger), its
    access level and its expiry (an expired file is purged by ``storage.purge_expired``)."""
    with tenant(file.user_id), transaction.atomic():
        StorageFile.objects.filter(pk=file.pk).update(
            usage_context=usage_context, access_level=access_level, expires_at=expires_at,
        )
    file.usage_context, file.access_level, file.expires_at = usage_context, access_level, expires_at
    return file


def _quota_refusal(exc: QuotaExceeded, *, user, name: str) -> QuotaExceeded:
    """The trigger's refusal as a message naming the file and the limit it ran into."""
    from django.template.defaultfilters import filesizeformat

    with tenant(user.id):
        quota = StorageQuota.objects.filter(user_id=user.id).first()
    if quota is None:
        return exc
    if exc.limit == "max_file_size":
        message = _("“%(name)s” is larger than your plan allows for one file (%(limit)s).") % {
            "name": name, "limit": filesizeformat(quota.max_file_size)}
    elif exc.limit == "max_storage":
        message = _("“%(name)s” does not fit in your storage: %(used)s of %(limit)s used. Delete some files first.") % {
            "name": name, "used": filesizeformat(quota.used_storage), "limit": filesizeformat(quota.max_storage)}
    else:
        message = _("“%(name)s” was not saved: your plan allows %(limit)s files and you have reached it.") % {
            "name": name, "limit": quota.max_files}
    refusal = QuotaExceeded(exc.limit)
    refusal.message = message
    refusal.args = (message,)
    return refusal


class UploadOutcome:
    """What became of one uploaded file: stored now, or the same content already there."""

    def __init__(self, file: StorageFile, *, existing: bool):
        self.file = file
        self.existing = existing


def file_upload(*, user, uploaded: File, folder: StorageFolder | None = None, checksum: str | None = None,
                usage_context: str = UsageContext.GENERAL) -> UploadOutcome:
    """One file of the file manager's upload: safe name, type from its bytes, scanned, stored in
    ``folder`` under a name unique there. Content the user already has is not stored twice: the
    existing file is returned (``existing``)."""
    from .uploads import SNIFF_BYTES, sniff_type

    name = safe_file_name(uploaded.name)
    if not uploaded.size:
        raise EmptyFile(name)
    if checksum is None:
        digest = hashlib.sha256()
        for piece in _pieces(uploaded):
            digest.update(piece)
        checksum = digest.hexdigest()
    with tenant(user.id):
        existing = StorageFile.objects.filter(user_id=user.id, checksum=checksum).select_related("folder").first()
    if existing is not None and existing.expires_at is not None and existing.expires_at <= timezone.now():
        file_delete(file=existing)  # expired, waiting for the purge: make way for the new copy
        existing = None
    if existing is not None and existing.deleted_at is not None:
        raise DuplicateInTrash(existing.filename)
    if existing is not None:
        return UploadOutcome(existing, existing=True)
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    mime_type = sniff_type(head, name)
    try:
        stored = file_store(user=user, content=uploaded, name=name, mime_type=mime_type, folder=folder,
                            usage_context=usage_context, checksum=checksum,
                            filename=unique_file_name(user=user, folder=folder, name=name))
    except QuotaExceeded as exc:
        raise _quota_refusal(exc, user=user, name=name) from exc
    except DuplicateFile:
        with tenant(user.id):
            existing = StorageFile.objects.filter(user_id=user.id, checksum=checksum).first()
        if existing is None:
            raise
        return UploadOutcome(existing, existing=True)
    return UploadOutcome(stored, existing=False)


def files_purge_expired(*, now=None) -> int:
    """Delete (row now, blob on commit) every file whose ``expires_at`` has passed; returns how many."""
    now = now or timezone.now()
    with bypass("storage: purge expired files"):
        expired = list(StorageFile.objects.filter(expires_at__lte=now).only("id", "user_id", "storage_path")[:1000])
    for file in expired:
        file_delete(file=file)
    if expired:
        logger.info("purged %d expired files", len(expired))
    return len(expired)
