"""Writes of the storage domain: a file's blob and its ``storage_files`` row, stored and deleted
together. Every domain that keeps files (documents now; files, artifacts, support and finance
later) goes through here, so quota, checksum and naming rules hold in one place.

The quota is enforced by a trigger on ``storage_files`` (exact under concurrency); its refusal
arrives as an ``IntegrityError`` and leaves here as a ``QuotaExceeded`` (``storage.errors``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import PurePosixPath

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from core.tenancy import tenant
from core.text import strip_control_chars, truncate_utf8

from .errors import storage_error_for
from .models import StorageFile, StorageFolder, UsageContext

DEFAULT_MIME_TYPE = "application/octet-stream"
# File names are stored (and shown) as the user gave them, cut to what file systems and the
# 255-character columns hold: 255 bytes of UTF-8. Storage paths use ids only.
NAME_MAX_BYTES = 255
_SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")


def stored_file_name(raw: str | None) -> str:
    """The upload's name without directories or control characters, at most 255 UTF-8 bytes,
    keeping its extension when it has to be cut."""
    name = strip_control_chars((raw or "").replace("\\", "/")).rsplit("/", 1)[-1].strip() or "document"
    if len(name.encode()) <= NAME_MAX_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode()) > 20:
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    return truncate_utf8(stem, NAME_MAX_BYTES - len(suffix.encode())).rstrip() + suffix


def storage_path(*, user_id, file_id, name: str, usage_context: str = UsageContext.GENERAL) -> str:
    """Where the blob goes: ``<context>/<user id>/<file id><extension>`` (ids only, never the name,
    whose extension is kept only when it is short and plain)."""
    suffix = PurePosixPath(name).suffix.lower()
    return f"{str(usage_context).lower()}/{user_id}/{file_id}{suffix if _SAFE_EXTENSION.match(suffix) else ''}"


def _read(content: bytes | File) -> tuple[File, int, str]:
    """The content as a Django File, its size and its SHA-256 (a File is read in chunks, then rewound)."""
    if isinstance(content, (bytes, bytearray)):
        data = bytes(content)
        return ContentFile(data), len(data), hashlib.sha256(data).hexdigest()
    digest, size = hashlib.sha256(), 0
    for piece in content.chunks():
        digest.update(piece)
        size += len(piece)
    content.seek(0)
    return content, size, digest.hexdigest()


@transaction.atomic
def file_store(*, user, content: bytes | File, name: str, mime_type: str = "", folder: StorageFolder | None = None,
               usage_context: str = UsageContext.GENERAL) -> StorageFile:
    """Store ``content`` for ``user`` as a file called ``name`` (cut by ``stored_file_name``): the blob
    in the default storage, then its row (checksum, size, type) in a savepoint.

    Raises ``QuotaExceeded`` when the file does not fit the user's quota and ``DuplicateFile`` when
    the user already holds the same content; either way no row and no blob are left. (Storage is
    not transactional: should the caller's transaction roll back after this returns, the row goes
    and the blob stays.)
    """
    name = stored_file_name(name)
    file_id = uuid.uuid4()
    blob, size, checksum = _read(content)
    path = default_storage.save(storage_path(user_id=user.id, file_id=file_id, name=name, usage_context=usage_context),
                                blob)
    try:
        with tenant(user.id), transaction.atomic():
            return StorageFile.objects.create(
                id=file_id, user=user, folder=folder, filename=name, original_name=name, storage_path=path,
                mime_type=(mime_type or DEFAULT_MIME_TYPE)[:255], size=size, checksum=checksum,
                usage_context=usage_context,
            )
    except IntegrityError as exc:
        default_storage.delete(path)
        refusal = storage_error_for(exc)
        if refusal is None:
            raise
        raise refusal from exc


def file_delete(*, file: StorageFile) -> None:
    """Delete the file's row now and its blob once the transaction commits (a rollback keeps both)."""
    path = file.storage_path
    with tenant(file.user_id), transaction.atomic():
        deleted, _ = StorageFile.objects.filter(pk=file.pk).delete()
        if deleted:  # a row the tenant cannot see is not theirs, and neither is its blob
            transaction.on_commit(lambda: default_storage.delete(path))
