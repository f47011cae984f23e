"""Refusals of the storage domain, each with a message safe to show to the file's owner.

The quota trigger on ``storage_files`` (``storage/migrations/0002_database_rules.py``) raises
SQLSTATE ``23Q01`` with the message ``storage_quota:<limit>``; ``storage_error_for`` turns that,
and the per-user checksum unique constraint, into these errors. It is the one place that reads
the database's wording.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.utils.translation import gettext as _

from core.errors import UserFacingError

QUOTA_LIMITS = ("max_file_size", "max_storage", "max_files")
CHECKSUM_CONSTRAINT = "storage_files_user_checksum_unique"


class StorageError(UserFacingError):
    """A file could not be stored."""


class QuotaExceeded(StorageError):
    """The file does not fit the owner's quota; ``limit`` names which one (see ``QUOTA_LIMITS``)."""

    def __init__(self, limit: str):
        self.limit = limit
        super().__init__(_quota_message(limit))


class StorageWriteFailed(StorageError):
    """The blob storage refused the write (disk full, read-only, the bucket unreachable)."""

    def __init__(self):
        super().__init__(_("The file could not be saved: the storage refused to write it (it may be full or "
                           "unavailable). Nothing was stored; please try again later."))


class DuplicateFile(StorageError):
    """The owner already stores a file with the same content."""

    def __init__(self):
        super().__init__(_("You have already uploaded this exact file."))


def _quota_message(limit: str) -> str:
    if limit == "max_file_size":
        return _("This file is larger than your plan allows for one file.")
    if limit == "max_storage":
        return _("This file does not fit in your remaining storage. Delete some files or documents first.")
    return _("You have reached the number of files your plan allows.")


def storage_error_for(error: IntegrityError) -> StorageError | None:
    """The storage refusal ``error`` stands for, or None when it is some other integrity error."""
    text = str(error)
    for limit in QUOTA_LIMITS:
        if f"storage_quota:{limit}" in text:
            return QuotaExceeded(limit)
    if CHECKSUM_CONSTRAINT in text:
        return DuplicateFile()
    return None


class FileInfected(StorageError):
    """clamd found ``signature`` in the file; nothing was stored."""

    def __init__(self, signature: str):
        self.signature = signature
        super().__init__(_("This file was refused: the virus scanner found “%(signature)s” in it. Nothing was saved.")
                         % {"signature": signature or _("a threat")})


class ScanFailed(StorageError):
    """Scanning is on but the scanner gave no verdict; nothing was stored."""

    def __init__(self):
        super().__init__(_("The virus scanner could not check this file right now, so it was not saved. Try again in a few minutes."))


class FolderNameTaken(StorageError):
    def __init__(self, name: str):
        super().__init__(_("There is already a folder called “%(name)s” here.") % {"name": name})


class FileNameTaken(StorageError):
    def __init__(self, name: str):
        super().__init__(_("There is already a file called “%(name)s” in that folder.") % {"name": name})


class FolderTooDeep(StorageError):
    def __init__(self):
        super().__init__(_("Folders cannot be nested this deep: the full path would be too long."))


class MoveRefused(StorageError):
    def __init__(self):
        super().__init__(_("A folder cannot be moved into itself or into one of its own folders."))


class EmptyFile(StorageError):
    def __init__(self, name: str):
        super().__init__(_("“%(name)s” is empty: there is nothing to save.") % {"name": name})


class DuplicateInTrash(StorageError):
    def __init__(self, name: str):
        super().__init__(_("You already have this file in the trash, as “%(name)s”. Restore it from the trash instead.")
                         % {"name": name})
