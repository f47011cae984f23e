"""Capture: when an answer is stored, its blocks worth keeping become artifacts.

Called by ``chats.services.reply_save`` inside the answer's transaction (in the answer's tenant),
for complete answers. One query finds the newest versions of the names the answer uses (a named
block whose name already exists in the conversation becomes that artifact's next version), one
INSERT writes every new row (ids are made here, so a block revising one earlier in the same answer
can point at it). A capture that fails never loses the answer: it runs in a savepoint and is
logged.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .conf import setting
from .errors import ArtifactRefused
from .extraction import Block, extract_blocks
from .models import Artifact, ArtifactType
from .selectors import newest_versions
from .services import _new_row, _store_blob, prepare

logger = logging.getLogger("artifacts")


def _default_name(block: Block) -> str:
    if block.type == ArtifactType.CODE:
        return _("%(language)s code") % {"language": block.language.capitalize()} if block.language else _("Code")
    return {
        ArtifactType.DIAGRAM: _("Diagram"), ArtifactType.HTML: _("HTML page"), ArtifactType.JSON: _("JSON data"),
        ArtifactType.TABLE: _("Table"), ArtifactType.IMAGE: _("Image"), ArtifactType.MARKDOWN: _("Document"),
    }.get(block.type, _("Artifact"))


def capture_answer(*, user, conversation, answer) -> list[Artifact]:
    """The artifacts made from ``answer`` (a stored assistant message); [] when capture is off."""
    if not setting("ARTIFACTS_CAPTURE"):
        return []
    blocks = extract_blocks(answer.content, min_chars=setting("ARTIFACTS_MIN_CHARS"),
                            markdown_min_chars=setting("ARTIFACTS_MARKDOWN_MIN_CHARS"),
                            min_lines=setting("ARTIFACTS_MIN_LINES"))
    if not blocks:
        return []
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _capture(user=user, conversation=conversation, answer=answer, blocks=blocks)
        except IntegrityError:  # an edit made a newer version of a revised artifact meanwhile: look again
            if attempt == 2:
                logger.exception("artifact capture failed for message %s", answer.pk)
        except Exception:
            logger.exception("artifact capture failed for message %s", answer.pk)
            return []
    return []


def _capture(*, user, conversation, answer, blocks: list[Block]) -> list[Artifact]:
    names = {b.name for b in blocks if b.name}
    newest: dict[str, Artifact] = {}
    if names:
        found = newest_versions(Artifact.objects.filter(conversation_id=conversation.pk, name__in=names)) \
            .only("id", "name", "version", "metadata", "type").order_by("created_at")
        newest = {a.name: a for a in found}
    rows: list[Artifact] = []
    counts: dict[str, int] = {}
    for block in blocks:
        try:
            prepared = prepare(type=block.type, content=block.content, language=block.language,
                               mime=block.mime, format=block.format)
            _store_blob(user=user, prepared=prepared)
        except ArtifactRefused as exc:
            logger.info("block of message %s not kept: %s", answer.pk, exc.message)
            continue
        name = block.name
        if not name:
            base = _default_name(block)
            counts[base] = counts.get(base, 0) + 1
            name = base if counts[base] == 1 else f"{base} ({counts[base]})"
        parent = newest.get(name) if block.name else None
        row = _new_row(user=user, agent_id=conversation.agent_id, conversation_id=conversation.pk, name=name,
                       type=block.type, prepared=prepared, origin="revision" if parent is not None else "capture",
                       parent=parent, source_message_id=answer.pk)
        if block.name:
            newest[name] = row
        rows.append(row)
    if rows:
        Artifact.objects.bulk_create(rows)
    return rows

