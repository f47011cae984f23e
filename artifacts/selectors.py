"""Reads of the artifacts domain, always scoped to the owner (RLS is the second wall).

An *artifact* as people see it is a line of versions (rows linked by ``parent_id``, all carrying
``metadata["root"]``); lists show each line's newest version. Anything of another person is a 404.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from agents.seeded_texts import shown
from core.crypto import token_digest
from core.search import folded_like_sql, like_pattern
from core.tenancy import tenant

from .models import Artifact, ArtifactType

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


class ArtifactRow(NamedTuple):
    """What a row of the artifacts list shows (never the content: it can be a megabyte)."""

    id: uuid.UUID
    name: str
    type: str
    version: int
    is_public: bool
    created_at: dt.datetime
    metadata: object
    agent_id: uuid.UUID
    agent_name: str
    agent_slug: str
    conversation_id: uuid.UUID | None
    conversation_title: str | None


# The newest version of each of the user's artifacts (no row names it as its parent), newest first,
# with the filters; one page and how many match, in one query (written out: the ORM took longer to
# compile the count and the page than PostgreSQL takes to answer them). A page past the end is the
# last page, as Django's Paginator.get_page has it.
_PAGE_SQL = """
WITH matched AS (SELECT count(*) AS n FROM artifacts WHERE {where})
SELECT matched.n, page.* FROM matched LEFT JOIN LATERAL (
    SELECT artifacts.id, artifacts.name, artifacts.type, artifacts.version, artifacts.is_public, artifacts.created_at,
           artifacts.metadata, artifacts.agent_id, agents.name, agents.slug, artifacts.conversation_id, conversations.title
    FROM artifacts
    JOIN agents ON agents.id = artifacts.agent_id
    LEFT JOIN conversations ON conversations.id = artifacts.conversation_id
    WHERE {where}
    ORDER BY artifacts.created_at DESC, artifacts.id DESC
    LIMIT %(size)s OFFSET (SELECT (least(%(page)s, greatest(1, ceil(n::numeric / %(size)s)::int)) - 1) * %(size)s FROM matched)
) page ON true
"""
_NEWEST = "artifacts.user_id = %(user)s AND NOT EXISTS (SELECT 1 FROM artifacts newer WHERE newer.parent_id = artifacts.id)"
_FILTERS = (
    ("type", "artifacts.type = %(type)s"),
    ("agent", "artifacts.agent_id = %(agent)s"),
    ("conversation", "artifacts.conversation_id = %(conversation)s"),
    ("language", "artifacts.metadata @> %(language)s::jsonb"),  # the GIN index's operator
    # The words of the name and content (indexed), or a part of the name ("query" finds "query.sql"),
    # case and accents aside (core.search).
    ("search", f"({SEARCH_SQL.replace('%s', '%(search)s')} OR {folded_like_sql('artifacts.name', 'name_part')})"),
)


def artifact_page(*, user, type: str = "", agent_id=None, conversation_id=None, language: str = "", search: str = "",
                  number: int = 1, size: int) -> tuple[int, int, list[ArtifactRow]]:
    """(how many match, the page shown, its rows) of the newest version of each of ``user``'s
    artifacts, newest first, with the filters; ``number`` counts from 1, past the end is the last page."""
    params: dict = {"user": user.pk, "page": max(1, int(number)), "size": size}
    if type and type in ArtifactType.values:
        params["type"] = type
    if agent_id:
        params["agent"] = agent_id
    if conversation_id:
        params["conversation"] = conversation_id
    if language:
        params["language"] = json.dumps({"language": language.lower()})
    if search:
        params["search"] = search
        params["name_part"] = like_pattern(search)
    where = " AND ".join([_NEWEST] + [sql for name, sql in _FILTERS if name in params])
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL.format(where=where), params)
        rows = cursor.fetchall()
    total = rows[0][0]
    pages = max(1, -(-total // size))
    found = []
    for row in rows:
        if row[1] is None:
            continue
        metadata = row[7]
        found.append(ArtifactRow(*row[1:7], json.loads(metadata) if isinstance(metadata, str) else metadata, *row[8:]))
    return total, min(params["page"], pages), found


class AgentChoice(NamedTuple):
    """An agent of the list's filter: only what an option shows."""

    pk: uuid.UUID
    name: str
    slug: str

    @property
    def display_name(self) -> str:  # Agent.display_name
        return shown(self.slug, "name", self.name)


# The filter's choices in one query: the agents ``user`` may use, as ``agents.selectors.
# agents_for_user`` has them (active, and public, granted to them or theirs; public ones first, then
# by name; tests/test_pages.py checks the two agree), and the languages of their code artifacts.
_FILTER_CHOICES_SQL = """
SELECT
    ARRAY(SELECT ARRAY[a.id::text, a.name, a.slug] FROM agents a
          WHERE a.is_active AND (a.is_public OR a.created_by = %(user)s
                OR EXISTS (SELECT 1 FROM user_agent_permissions g WHERE g.agent_id = a.id AND g.user_id = %(user)s))
          ORDER BY a.is_public DESC, a.name ASC, a.slug ASC),
    ARRAY(SELECT DISTINCT metadata->>'language' FROM artifacts
          WHERE user_id = %(user)s AND metadata ? 'language' ORDER BY 1 LIMIT 100)
"""


def filter_choices(*, user) -> tuple[list[AgentChoice], list[str]]:
    """(the agents, the languages) the list's filter offers ``user``."""
    with connection.cursor() as cursor:
        cursor.execute(_FILTER_CHOICES_SQL, {"user": user.pk})
        agents, languages = cursor.fetchone()
    return ([AgentChoice(uuid.UUID(pk), name, slug) for pk, name, slug in agents],
            [language for language in languages if language])


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
