"""The embedded default vector store: the ``rag_vectors`` table in the app's own PostgreSQL.

Where pgvector is installed, ``embedding`` is a ``vector`` with HNSW cosine indexes per common
dimension (partial indexes on ``dimension`` and ``indexed``). New vectors arrive *fresh*
(``indexed = false``), outside the HNSW index, so indexing a document does not wait on graph
inserts; ``compact()`` (the ``rag.compact_vectors`` task, run after each indexing and by beat)
moves them into the index in batches. A query searches the index over indexed rows and the user's
fresh rows exactly, and merges the two; it falls back to an exact scan of all the user's rows when
the index's candidates, filtered to this user, collections and tags, come back short (HNSW
filters after the search). Without pgvector the column is ``real[]`` and every query is exact.

A namespace is one user (``user-<uuid>``); every statement runs in that user's RLS context.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from core.tenancy import bypass, tenant
from rag.errors import VectorStoreError

from .base import (
    META_CHUNK_INDEX,
    META_COLLECTION,
    META_DOCUMENT_ID,
    META_TAGS,
    META_TITLE,
    VectorMatch,
    VectorRecord,
    VectorStore,
    batched,
    require_namespace,
)

META_EMBEDDER = "embedder"
HNSW_DIMENSIONS = (256, 384, 512, 768, 1024, 1536)  # as indexed by rag/migrations/0004 and 0005
UPSERT_BATCH = 500
COMPACT_BATCH = 1000


def user_id_from_namespace(namespace: str) -> uuid.UUID:
    require_namespace(namespace)
    try:
        return uuid.UUID(namespace.removeprefix("user-"))
    except ValueError as exc:
        raise VectorStoreError(_("This namespace does not name a user.")) from exc


def _column_type() -> str | None:
    """``vector`` or ``_float4`` (real[]); None when the table is missing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass('rag_vectors') AND a.attname = 'embedding'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


class PgVectorStore(VectorStore):
    name = "pgvector"

    def __init__(self, *, dimension: int | None = None, embedder: str | None = None, **_options):
        self.dimension = dimension
        self.embedder = embedder
        self._type: str | None = None

    # --- helpers --------------------------------------------------------------------------------

    @property
    def native(self) -> bool:
        if self._type is None:
            self._type = _column_type() or ""
        return self._type == "vector"

    def _literal(self, values) -> str:
        numbers = ",".join(f"{float(v):.7g}" for v in values)
        return f"[{numbers}]" if self.native else f"{{{numbers}}}"

    def _cast(self, dimension: int) -> str:
        return f"vector({int(dimension)})" if self.native else "real[]"

    # --- the interface --------------------------------------------------------------------------

    def upsert(self, *, namespace: str, records: list[VectorRecord]) -> None:
        user_id = user_id_from_namespace(namespace)
        if not records:
            return
        dimensions = {len(r.values) for r in records}
        if len(dimensions) != 1:
            raise VectorStoreError(_("All vectors of one upsert must have the same dimension."))
        (dimension,) = dimensions
        if self.dimension and dimension != self.dimension:
            raise VectorStoreError(
                _("These vectors have %(got)s dimensions; the store expects %(want)s.") % {"got": dimension, "want": self.dimension}
            )
        kind = "vector" if self.native else "real[]"
        sql = (
            "INSERT INTO rag_vectors (id, user_id, document_id, embedder, dimension, chunk_index, collection, tags, title, embedding) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::{kind}) "
            "ON CONFLICT (id) DO UPDATE SET document_id = EXCLUDED.document_id, embedder = EXCLUDED.embedder, "
            "dimension = EXCLUDED.dimension, chunk_index = EXCLUDED.chunk_index, collection = EXCLUDED.collection, "
            "tags = EXCLUDED.tags, title = EXCLUDED.title, embedding = EXCLUDED.embedding, indexed = false"
        )
        with tenant(user_id):
            with connection.cursor() as cursor:
                for batch in batched(records, UPSERT_BATCH):
                    cursor.executemany(sql, [
                        (
                            r.id, user_id, r.metadata[META_DOCUMENT_ID],
                            r.metadata.get(META_EMBEDDER) or self.embedder or "", dimension,
                            int(r.metadata.get(META_CHUNK_INDEX, 0)), r.metadata.get(META_COLLECTION) or "",
                            list(r.metadata.get(META_TAGS) or []), r.metadata.get(META_TITLE) or "",
                            self._literal(r.values),
                        )
                        for r in batch
                    ])

    def query(self, *, namespace: str, vector: list[float], top_k: int,
              collections: list[str] | None = None, tags: list[str] | None = None) -> list[VectorMatch]:
        user_id = user_id_from_namespace(namespace)
        dimension = len(vector)
        where = ["user_id = %s", "dimension = %s"]
        params: list = [user_id, dimension]
        if self.embedder:
            where.append("embedder = %s")
            params.append(self.embedder)
        if collections:
            where.append("collection = ANY(%s)")
            params.append(list(collections))
        if tags:
            where.append("tags && %s::text[]")
            params.append(list(tags))
        with tenant(user_id):
            if self.native and dimension in HNSW_DIMENSIONS:
                indexed = self._search([*where, "indexed"], params, vector, dimension, top_k, use_index=True)
                fresh = self._search([*where, "NOT indexed"], params, vector, dimension, top_k, use_index=False)
                rows = sorted(indexed + fresh, key=lambda row: -row[1])[:top_k]
                if len(indexed) < top_k and len(rows) < top_k:
                    # The index searched everyone's vectors and the filters kept too few: be exact.
                    rows = self._search(where, params, vector, dimension, top_k, use_index=False)
            else:
                rows = self._search(where, params, vector, dimension, top_k, use_index=False)
        return [
            VectorMatch(id=row[0], score=float(row[1]), metadata={
                META_DOCUMENT_ID: str(row[2]), META_CHUNK_INDEX: row[3], META_COLLECTION: row[4],
                META_TAGS: list(row[5]), META_TITLE: row[6], META_EMBEDDER: row[7],
            })
            for row in rows
        ]

    def _search(self, where, params, vector, dimension, top_k, *, use_index: bool):
        literal = self._literal(vector)
        columns = "id, {score}, document_id, chunk_index, collection, tags, title, embedder"
        if self.native:
            cast = self._cast(dimension)
            distance = f"(embedding::{cast} <=> %s::{cast})"
            sql = (f"SELECT {columns.format(score=f'1 - {distance}')} FROM rag_vectors WHERE {' AND '.join(where)} "
                   f"ORDER BY {distance} LIMIT %s")
            query_params = [literal, *params, literal, top_k]
        else:
            score = "(SELECT sum(a * b) FROM unnest(embedding, %s::real[]) AS pair(a, b))"
            sql = (f"SELECT {columns.format(score=score + ' AS score')} FROM rag_vectors WHERE {' AND '.join(where)} "
                   "ORDER BY score DESC LIMIT %s")
            query_params = [literal, *params, top_k]
        with connection.cursor() as cursor:
            if self.native:
                # Transaction-local planner settings: the HNSW index, or an exact scan.
                ef_search = max(settings.RAG_HNSW_EF_SEARCH, top_k * 2)
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search)])
                cursor.execute("SELECT set_config('enable_indexscan', %s, true)", ["on" if use_index else "off"])
            cursor.execute(sql, query_params)
            rows = cursor.fetchall()
            if self.native:
                cursor.execute("SELECT set_config('enable_indexscan', 'on', true)")
        return rows

    def delete(self, *, namespace: str, ids: list[str]) -> None:
        user_id = user_id_from_namespace(namespace)
        with tenant(user_id), connection.cursor() as cursor:
            for batch in batched(list(ids), 1000):
                cursor.execute("DELETE FROM rag_vectors WHERE user_id = %s AND id = ANY(%s)", [user_id, batch])

    def delete_document(self, *, namespace: str, document_id: str, ids: list[str] | None = None) -> None:
        user_id = user_id_from_namespace(namespace)
        with tenant(user_id), connection.cursor() as cursor:
            cursor.execute("DELETE FROM rag_vectors WHERE user_id = %s AND document_id = %s", [user_id, document_id])

    def compact(self, *, user_id=None, batch: int = COMPACT_BATCH, limit: int | None = None) -> int:
        """Move fresh vectors into the HNSW index (one user's, or everyone's), in transactions of
        ``batch`` rows, at most ``limit`` in all; returns how many."""
        if not self.native:
            return 0
        moved = 0
        while limit is None or moved < limit:
            if limit is not None:
                batch = min(batch, limit - moved)
            context = tenant(user_id) if user_id else bypass("move fresh document vectors into the search index")
            with context, connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE rag_vectors SET indexed = true WHERE id IN (SELECT id FROM rag_vectors WHERE NOT indexed "
                    + ("AND user_id = %s " if user_id else "") + "LIMIT %s FOR UPDATE SKIP LOCKED)",
                    [user_id, batch] if user_id else [batch],
                )
                count = cursor.rowcount
            moved += count
            if count < batch:
                return moved
        return moved

    def stats(self) -> dict:
        with bypass("vector store statistics"), connection.cursor() as cursor:
            cursor.execute("SELECT user_id, count(*), max(dimension) FROM rag_vectors GROUP BY user_id")
            rows = cursor.fetchall()
        return {
            "dimension": max((row[2] for row in rows), default=self.dimension or 0),
            "total_vector_count": sum(row[1] for row in rows),
            "namespaces": {f"user-{row[0]}": row[1] for row in rows},
        }

    def check(self) -> list[str]:
        kind = _column_type()
        if kind is None:
            return [_("The rag_vectors table is missing: run the migrations (manage.py migrate).")]
        return []

    def warnings(self) -> list[str]:
        """Usable, but slower than it could be."""
        if _column_type() == "_float4":
            return [_("pgvector is not installed on this PostgreSQL server, so document search compares every "
                      "vector (exact and slower). Install the extension (CREATE EXTENSION vector) and migrate "
                      "again for fast search.")]
        return []
