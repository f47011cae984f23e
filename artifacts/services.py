"""Writes of the artifacts domain: create, revise, restore, share, revoke, delete, count views.

A version is never rewritten: an edit, an agent's revision or a restore inserts a new row whose
``parent_id`` is the newest version and whose ``version`` is one more (a partial unique index on
``parent_id`` keeps the versions a line: two saves from the same version cannot both win). Every
version carries ``metadata["root"]``, the first version's id, so a whole artifact is found with
one ``@>`` on the GIN-indexed ``metadata``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.crypto import token_digest
from core.tenancy import tenant
from core.text import strip_control_chars

from . import content as stored
from .conf import setting
from .errors import ArtifactConflict, ArtifactRefused
from .extraction import NAME_MAX_LENGTH, json_parses
from .models import Artifact, ArtifactType
from .sanitising import IMAGE_EXTENSIONS, image_decode, svg_clean

logger = logging.getLogger("artifacts")

TOKEN_BYTES = 32  # 256 bits: 43 URL-safe characters


class Prepared:
    """Content checked and made safe for one type: what the row keeps, its metadata, and the
    bytes that go to the storage (when too large for the row, or an image)."""

    __slots__ = ("content", "metadata", "blob", "blob_mime", "blob_name")

    def __init__(self, content: str, metadata: dict, blob: bytes | None = None, blob_mime: str = "", blob_name: str = ""):
        self.content, self.metadata, self.blob, self.blob_mime, self.blob_name = content, metadata, blob, blob_mime, blob_name


def _too_large() -> ArtifactRefused:
    limit = setting("ARTIFACTS_MAX_BYTES") // (1024 * 1024)
    return ArtifactRefused(_("This content is too large to keep as an artifact (the limit is %(size)s MB).") % {"size": limit})


def prepare(*, type: str, content: str, language: str = "", mime: str = "", format: str = "") -> Prepared:
    """Validate ``content`` as an artifact of ``type`` and make it safe; raises ``ArtifactRefused``."""
    if type not in ArtifactType.values:
        raise ArtifactRefused(_("Unknown artifact type."))
    if len(content) > setting("ARTIFACTS_MAX_BYTES"):  # before encoding a 50 MB paste
        raise _too_large()
    content = strip_control_chars(content or "")
    metadata: dict = {}
    if language:
        metadata["language"] = language[:40]
    if format:
        metadata["format"] = format
    if type == ArtifactType.IMAGE:
        image_limit = setting("ARTIFACTS_IMAGE_MAX_BYTES")
        if mime == "image/svg+xml" or content.lstrip().lower().startswith(("<svg", "<?xml")):
            if len(content) > image_limit:
                raise ArtifactRefused(_("This image is too large to keep."))
            cleaned = svg_clean(content)
            if not cleaned:
                raise ArtifactRefused(_("This is not an SVG image."))
            metadata["mime"] = "image/svg+xml"
            return _sized(Prepared(cleaned, metadata))
        data, mime = image_decode(content, mime=mime, max_bytes=image_limit)
        metadata.update(mime=mime, binary=True, byte_size=len(data), line_count=0)
        return Prepared("", metadata, blob=data, blob_mime=mime, blob_name=f"image{IMAGE_EXTENSIONS[mime]}")
    if not content.strip():
        raise ArtifactRefused(_("An artifact needs some content."))
    if type == ArtifactType.JSON and not json_parses(content):
        raise ArtifactRefused(_("This is not valid JSON: fix it or save it as code."))
    return _sized(Prepared(content, metadata))


def _sized(prepared: Prepared) -> Prepared:
    encoded = prepared.content.encode()
    prepared.metadata["byte_size"] = len(encoded)
    text = prepared.content
    prepared.metadata["line_count"] = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(encoded) > setting("ARTIFACTS_MAX_BYTES"):
        raise _too_large()
    if len(encoded) > setting("ARTIFACTS_INLINE_MAX_BYTES"):
        prepared.blob, prepared.blob_mime, prepared.blob_name = encoded, "text/plain", "artifact.txt"
        prepared.content = prepared.content[:stored.PREVIEW_CHARS]
        prepared.metadata["preview"] = True
    return prepared


def _store_blob(*, user, prepared: Prepared) -> None:
    """Write the prepared bytes through the storage API; their file id goes into the metadata."""
    if prepared.blob is None:
        return
    from storage import selectors as storage_selectors  # noqa: PLC0415
    from storage import services as storage_services  # noqa: PLC0415
    from storage.errors import DuplicateFile  # noqa: PLC0415
    from storage.models import UsageContext  # noqa: PLC0415

    try:
        file = storage_services.file_store(user=user, content=prepared.blob, name=prepared.blob_name,
                                           mime_type=prepared.blob_mime, usage_context=UsageContext.ARTIFACT)
    except DuplicateFile:
        # The same bytes are already kept (a restored version, the same image twice): share them.
        with tenant(user.id):
            file = storage_selectors.file_with_checksum(user=user, checksum=hashlib.sha256(prepared.blob).hexdigest())
        if file is None:
            raise
    prepared.metadata["file_id"] = str(file.pk)


def _new_row(*, user, agent_id, conversation_id, name: str, type: str, prepared: Prepared, origin: str,
             parent: Artifact | None = None, source_message_id=None, extra: dict | None = None) -> Artifact:
    artifact_id = uuid.uuid4()
    metadata = dict(prepared.metadata)
    metadata["origin"] = origin
    metadata["root"] = (parent.metadata or {}).get("root", str(parent.pk)) if parent is not None else str(artifact_id)
    if source_message_id:
        metadata["source_message_id"] = str(source_message_id)
    if extra:
        metadata.update(extra)
    return Artifact(
        id=artifact_id, agent_id=agent_id, user_id=user.pk, conversation_id=conversation_id,
        name=clean_name(name), type=type, content=prepared.content,
        version=parent.version + 1 if parent is not None else 1, parent=parent, metadata=metadata,
    )


def clean_name(name: str) -> str:
    name = " ".join(strip_control_chars(name or "").split())[:NAME_MAX_LENGTH]
    return name or _("Untitled artifact")


def artifact_create(*, user, agent, name: str, type: str, content: str, conversation=None, language: str = "",
                    mime: str = "", format: str = "", origin: str = "manual", source_message_id=None) -> Artifact:
    """A new artifact (version 1). Nothing is kept when it is refused."""
    prepared = prepare(type=type, content=content, language=language, mime=mime, format=format)
    with tenant(user.id), transaction.atomic():
        _store_blob(user=user, prepared=prepared)
        row = _new_row(user=user, agent_id=agent.pk, conversation_id=getattr(conversation, "pk", None), name=name,
                       type=type, prepared=prepared, origin=origin, source_message_id=source_message_id)
        row.save(force_insert=True)
    return row


def _lock_newest(artifact: Artifact) -> Artifact:
    """Lock ``artifact``'s row and make sure it is still the newest version (``ArtifactConflict``)."""
    locked = Artifact.objects.select_for_update().filter(pk=artifact.pk, user_id=artifact.user_id).first()
    if locked is None or Artifact.objects.filter(parent_id=artifact.pk).exists():
        raise ArtifactConflict()
    return locked


def artifact_revise(*, user, artifact: Artifact, content: str, name: str | None = None, origin: str = "edit",
                    extra: dict | None = None, source_message_id=None) -> Artifact:
    """The next version of ``artifact`` (which must be the newest) with ``content``."""
    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    prepared = prepare(type=artifact.type, content=content, language=metadata.get("language", ""),
                       mime=metadata.get("mime", ""), format=metadata.get("format", ""))
    with tenant(user.id), transaction.atomic():
        newest = _lock_newest(artifact)
        _store_blob(user=user, prepared=prepared)
        row = _new_row(user=user, agent_id=newest.agent_id, conversation_id=newest.conversation_id,
                       name=name if name is not None else newest.name, type=newest.type, prepared=prepared,
                       origin=origin, parent=newest, extra=extra, source_message_id=source_message_id)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError as exc:  # another save from the same version won
            raise ArtifactConflict() from exc
    return row


def artifact_restore(*, user, version: Artifact, newest: Artifact) -> Artifact:
    """``version``'s content (and name) as the new newest version; the old versions stay."""
    if version.type == ArtifactType.IMAGE and (version.metadata or {}).get("binary"):
        with tenant(user.id), transaction.atomic():
            newest = _lock_newest(newest)
            keep = {k: v for k, v in version.metadata.items() if k in ("mime", "binary", "byte_size", "line_count", "file_id")}
            row = _new_row(user=user, agent_id=newest.agent_id, conversation_id=newest.conversation_id, name=version.name,
                           type=newest.type, prepared=Prepared("", keep), origin="restore", parent=newest,
                           extra={"restored_from": version.version})
            row.save(force_insert=True)
        return row
    return artifact_revise(user=user, artifact=newest, content=stored.full_text(version), name=version.name,
                           origin="restore", extra={"restored_from": version.version})


def artifact_share(*, user, artifact: Artifact) -> str:
    """Make this version public under a new link; returns the token (shown once: only its digest is kept)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with tenant(user.id):
        Artifact.objects.filter(pk=artifact.pk, user_id=user.pk).update(is_public=True, share_token=token_digest(token))
    return token


def artifact_unshare(*, artifact: Artifact) -> None:
    """The version's link stops working at once."""
    with tenant(artifact.user_id):
        Artifact.objects.filter(pk=artifact.pk).update(is_public=False, share_token=None)


_VIEWS_SQL = """
UPDATE artifacts SET metadata = jsonb_set(metadata, '{views}',
    to_jsonb(coalesce((metadata->>'views')::bigint, 0) + 1)) WHERE id = %s AND is_public
"""


def share_view_count(artifact: Artifact) -> None:
    """One more view of the shared version (exact under concurrency: one UPDATE)."""
    with tenant(artifact.user_id), connection.cursor() as cursor:
        cursor.execute(_VIEWS_SQL, [artifact.pk])


def artifacts_delete(*, user, roots: list[str]) -> int:
    """Delete whole artifacts (every version of each root) and the blobs only they used; returns
    how many artifacts went."""
    from storage import services as storage_services  # noqa: PLC0415
    from storage.models import StorageFile, UsageContext  # noqa: PLC0415

    roots = [str(r) for r in roots]
    if not roots:
        return 0
    with tenant(user.id), transaction.atomic():
        rows = list(Artifact.objects.filter(Q(metadata__root__in=roots) | Q(pk__in=roots), user_id=user.pk)
                    .values_list("pk", "metadata"))
        file_ids = {m.get("file_id") for _pk, m in rows if isinstance(m, dict) and m.get("file_id")}
        gone_roots = {(m or {}).get("root", str(pk)) for pk, m in rows}
        # Children first is not needed: parent_id is ON DELETE SET NULL and the rows go in one statement.
        Artifact.objects.filter(pk__in=[pk for pk, _m in rows]).delete()
        if file_ids:
            still_used = set()
            for file_id in file_ids:
                if Artifact.objects.filter(user_id=user.pk, metadata__contains={"file_id": file_id}).exists():
                    still_used.add(file_id)
            for file in StorageFile.objects.filter(user_id=user.pk, pk__in=file_ids - still_used,
                                                   usage_context=UsageContext.ARTIFACT):
                storage_services.file_delete(file=file)
    return len(gone_roots)


def metadata_json(artifact: Artifact) -> str:
    return json.dumps(artifact.metadata or {}, sort_keys=True)
