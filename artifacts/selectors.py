"""Reads of the artifacts domain, always scoped to the owner (RLS is the second wall).

An *artifact* as people see it is a line of versions (rows linked by ``parent_id``, all carrying
``metadata["root"]``); lists show each line's newest version. Anything of another person is a 404.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from core.crypto import token_digest
from core.tenancy import tenant

from .models import Artifact, ArtifactType

# What a list row needs (never the content: it can be a megabyte).
LIST_FIELDS = ("id", "name", "type", "version", "is_public", "created_at", "metadata", "agent_id", "conversation_id",
               "agent__name", "agent__slug", "conversation__title")
TOKEN_LENGTH = 43


# The indexed expression of migration 0003 (``idx_artifacts_fulltext``), matched by the question.
SEARCH_SQL = ("to_tsvector('simple', public.immutable_unaccent(artifacts.name || ' ' || left(artifacts.content, 200000)))"
              " @@ websearch_to_tsquery('simple', public.immutable_unaccent(%s))")


def newest_versions(queryset: QuerySet[Artifact]) -> QuerySet[Artifact]:
    """Only the newest version of each artifact (no row names it as its parent)."""
    return queryset.filter(~Exists(Artifact.objects.filter(parent_id=OuterRef("pk"))))


def _uuid(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def artifact_get_for_user(*, user, artifact_id) -> Artifact:
    artifact = Artifact.objects.filter(pk=_uuid(artifact_id), user_id=user.pk).select_related("agent", "conversation").first()
    if artifact is None:
        raise Http404
    return artifact


def versions_of(artifact: Artifact) -> list[Artifact]:
    """Every version of ``artifact``'s line, oldest first (without their content)."""
    root = (artifact.metadata or {}).get("root") or str(artifact.pk)
    return list(Artifact.objects.filter(Q(metadata__contains={"root": root}) | Q(pk=_uuid(root)), user_id=artifact.user_id)
                .defer("content").order_by("version", "created_at"))


def version_number(versions: list[Artifact], number) -> Artifact | None:
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        return None
    return next((v for v in versions if v.version == wanted), None)


def artifacts_for_user(*, user, type: str = "", agent_id=None, conversation_id=None, language: str = "",
                       search: str = "") -> QuerySet[Artifact]:
    """The newest version of each of ``user``'s artifacts, newest first, with the filters."""
    queryset = newest_versions(Artifact.objects.filter(user_id=user.pk))
    if type and type in ArtifactType.values:
        queryset = queryset.filter(type=type)
    if agent_id:
        queryset = queryset.filter(agent_id=agent_id)
    if conversation_id:
        queryset = queryset.filter(conversation_id=conversation_id)
    if language:
        queryset = queryset.filter(metadata__contains={"language": language.lower()})
    if search:
        # The words of the name and content (indexed), or a part of the name ("query" finds "query.sql").
        queryset = queryset.annotate(matches=RawSQL(SEARCH_SQL, [search], output_field=BooleanField())) \
            .filter(Q(matches=True) | Q(name__icontains=search))
    return queryset.select_related("agent", "conversation").only(*LIST_FIELDS).order_by("-created_at", "-id")


def languages_for_user(*, user) -> list[str]:
    """The languages of ``user``'s code artifacts, for the filter."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT metadata->>'language' FROM artifacts WHERE user_id = %s "
                       "AND metadata ? 'language' ORDER BY 1 LIMIT 100", [user.pk])
        return [row[0] for row in cursor.fetchall() if row[0]]


def artifacts_for_messages(*, conversation_id, message_ids) -> dict[str, list[Artifact]]:
    """The artifacts each of ``message_ids`` made (in one query), keyed by message id."""
    ids = {str(m) for m in message_ids}
    if not ids:
        return {}
    found: dict[str, list[Artifact]] = {}
    rows = Artifact.objects.filter(conversation_id=conversation_id)
    if len(ids) == 1:  # the stream's final item: the GIN index on metadata finds them
        rows = rows.filter(metadata__contains={"source_message_id": next(iter(ids))})
    else:
        rows = rows.filter(metadata__source_message_id__in=list(ids))
    rows = rows.only("id", "name", "type", "version", "metadata").order_by("created_at", "id")
    for artifact in rows:
        source = (artifact.metadata or {}).get("source_message_id")
        if source in ids:
            found.setdefault(source, []).append(artifact)
    return found


def conversation_artifacts(*, user, conversation_id) -> list[Artifact]:
    return list(newest_versions(Artifact.objects.filter(user_id=user.pk, conversation_id=conversation_id))
                .only("id", "name", "type", "version", "metadata", "created_at").order_by("created_at", "id"))


def shared_artifact(token: str) -> Artifact | None:
    """The public version the link ``token`` opens, or None (wrong shape, unknown, revoked)."""
    if not token or len(token) != TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT artifact_share_owner(%s)", [digest])
        (owner_id,) = cursor.fetchone()
    if owner_id is None:
        return None
    from accounts.models import User  # noqa: PLC0415

    if not User.objects.filter(pk=owner_id, deleted_at__isnull=True).exists():
        return None
    with tenant(owner_id):
        return Artifact.objects.filter(share_token=digest, is_public=True).select_related("agent").first()
