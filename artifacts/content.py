"""An artifact's content wherever it is kept: in the row, or (over ``ARTIFACTS_INLINE_MAX_BYTES``,
and every raster image) as a ``storage_files`` blob of usage ARTIFACT, the row keeping its id in
``metadata["file_id"]`` and a preview in ``content``. Reading, diffing and sharing go through
``full_text`` / ``blob_bytes``; nothing else opens the storage.
"""

from __future__ import annotations

import logging

from core.tenancy import tenant

from .models import Artifact

logger = logging.getLogger("artifacts")

PREVIEW_CHARS = 2000


def stored_file(artifact: Artifact):
    """The ``storage_files`` row holding the artifact's bytes, or None (kept in the row, or gone)."""
    from storage.models import StorageFile  # noqa: PLC0415

    file_id = (artifact.metadata or {}).get("file_id") if isinstance(artifact.metadata, dict) else None
    if not file_id:
        return None
    with tenant(artifact.user_id):
        return StorageFile.objects.filter(pk=file_id, user_id=artifact.user_id, deleted_at__isnull=True).first()


def blob_bytes(artifact: Artifact) -> bytes | None:
    """The stored bytes, or None when the content is in the row (or the blob is missing)."""
    from storage.backends import file_storage  # noqa: PLC0415

    file = stored_file(artifact)
    if file is None:
        return None
    try:
        with file_storage().open(file.storage_path, "rb") as handle:
            return handle.read()
    except OSError:
        logger.error("artifact %s: its blob %s cannot be read", artifact.pk, file.storage_path)
        return None


def full_text(artifact: Artifact) -> str:
    """The whole text of a text artifact (the row's, or the blob's when it was too large)."""
    if not (isinstance(artifact.metadata, dict) and artifact.metadata.get("file_id")):
        return artifact.content
    if artifact.metadata.get("binary"):
        return ""
    data = blob_bytes(artifact)
    if data is None:
        return artifact.content  # the preview is all there is
    return data.decode("utf-8", errors="replace")


def is_stored(artifact: Artifact) -> bool:
    return bool(isinstance(artifact.metadata, dict) and artifact.metadata.get("file_id"))
