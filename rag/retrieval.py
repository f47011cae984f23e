"""Hybrid retrieval over the user's documents: vector search and PostgreSQL full-text search, fused.

Both halves return ranked chunk ids; the fusion is a *weighted* reciprocal-rank fusion:
``score = w_vector / (k + rank_vector) + w_text / (k + rank_text)``. Unweighted, RRF lets a
keyword half that found the wrong passage drag a good semantic hit down (paraphrased questions
lose); the weights (``RAG_FUSION_VECTOR_WEIGHT`` / ``RAG_FUSION_TEXT_WEIGHT``) were chosen on the
question set in ``rag/tests/data`` so that fusion is never worse than the better half (figures in
docs/decisions.md). ``threshold`` (retrieval settings) drops vector hits below that cosine
similarity; full-text hits need at least one matching term.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.urls import reverse

from agents.providers import Passage
from core.tenancy import tenant

from .embedders import EmbeddingError, get_embedder
from .models import RagSettings, Status
from .vectorstores import get_vector_store, namespace_for_user
from .vectorstores.base import VectorStoreError

logger = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 30
MAX_TEXT_CANDIDATES = 2000

# OR-query of the question's lexemes in each text-search language; each chunk's tsvector is in
# its document's language, so English lexemes meet English chunks and Spanish ones Spanish.
TEXT_SEARCH_SQL = """
WITH question AS (
    SELECT (SELECT coalesce(string_agg(quote_literal(l), ' | '), '')
              FROM unnest(tsvector_to_array(to_tsvector('english', %(q)s))) AS l) AS en,
           (SELECT coalesce(string_agg(quote_literal(l), ' | '), '')
              FROM unnest(tsvector_to_array(to_tsvector('spanish', %(q)s))) AS l) AS es,
           (SELECT coalesce(string_agg(quote_literal(l), ' | '), '')
              FROM unnest(tsvector_to_array(to_tsvector('simple', %(q)s))) AS l) AS si
), query AS (
    SELECT CASE WHEN en = '' THEN NULL ELSE en::tsquery END AS en,
           CASE WHEN es = '' THEN NULL ELSE es::tsquery END AS es,
           CASE WHEN si = '' THEN NULL ELSE si::tsquery END AS si
      FROM question
)
SELECT c.id, ts_rank_cd(c.search, CASE c.language WHEN 'english' THEN q.en WHEN 'spanish' THEN q.es ELSE q.si END, 1) AS rank
  FROM (
      -- Ranking costs per matching chunk: rank at most this many matches (all of them, for any
      -- ordinary library; a bound on latency for a huge one asked about very common words).
      SELECT c.id, c.search, c.language
        FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id, query q
       WHERE c.user_id = %(user)s AND d.status = 'INDEXED'
         AND c.search @@ CASE c.language WHEN 'english' THEN q.en WHEN 'spanish' THEN q.es ELSE q.si END
         {filters}
       LIMIT %(cap)s
  ) c, query q
 ORDER BY rank DESC, c.id
 LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Retrieved:
    chunk_id: str
    document_id: str
    title: str
    position: int
    heading: str
    content: str
    score: float
    vector_rank: int | None
    text_rank: int | None
    similarity: float | None


def _filters(collections, tags, params) -> str:
    clauses = []
    if collections:
        clauses.append("AND d.collection = ANY(%(collections)s)")
        params["collections"] = list(collections)
    if tags:
        clauses.append("AND d.tags && %(tags)s::text[]")
        params["tags"] = list(tags)
    return " ".join(clauses)


def text_search(*, user, query: str, limit: int = CANDIDATES, collections=None, tags=None) -> list[str]:
    params = {"q": query, "user": user.id, "limit": limit, "cap": MAX_TEXT_CANDIDATES}
    sql = TEXT_SEARCH_SQL.format(filters=_filters(collections, tags, params))
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [str(row[0]) for row in cursor.fetchall()]


def vector_search(*, user, query: str, limit: int = CANDIDATES, collections=None, tags=None,
                  embedder_name: str | None = None) -> list[tuple[str, float]]:
    embedder = get_embedder(embedder_name)
    store = get_vector_store(dimension=embedder.dimension, embedder=embedder.name)
    matches = store.query(namespace=namespace_for_user(user.id), vector=embedder.embed_query(query),
                          top_k=limit, collections=collections or None, tags=tags or None)
    return [(m.id, m.score) for m in matches]


def fuse(vector_hits: list[tuple[str, float]], text_hits: list[str], *, vector_weight: float, text_weight: float,
         threshold: float = 0.0) -> list[tuple[str, float, int | None, int | None, float | None]]:
    """Weighted reciprocal-rank fusion → [(chunk id, score, vector rank, text rank, similarity)]."""
    scores: dict[str, list] = {}
    for rank, (chunk_id, similarity) in enumerate(vector_hits, start=1):
        if similarity < threshold:
            continue
        scores[chunk_id] = [vector_weight / (RRF_K + rank), rank, None, similarity]
    for rank, chunk_id in enumerate(text_hits, start=1):
        entry = scores.setdefault(chunk_id, [0.0, None, None, None])
        entry[0] += text_weight / (RRF_K + rank)
        entry[2] = rank
    ordered = sorted(scores.items(), key=lambda item: (-item[1][0], item[1][1] or 10**6, item[0]))
    return [(chunk_id, values[0], values[1], values[2], values[3]) for chunk_id, values in ordered]


def retrieve(*, user, query: str, top_k: int | None = None, threshold: float | None = None,
             collections=None, tags=None, mode: str = "hybrid", embedder_name: str | None = None) -> list[Retrieved]:
    """The best ``top_k`` passages of the user's indexed documents for ``query``.

    ``mode`` is "hybrid" (default), "vector" or "text" (the halves, for evaluation).
    """
    if not query.strip():
        return []
    with tenant(user.id):
        rag_settings = RagSettings.objects.filter(user=user).first()
    top_k = top_k or (rag_settings.top_k if rag_settings else 5)
    threshold = float(threshold if threshold is not None else (rag_settings.threshold if rag_settings else 0))
    if collections is None and rag_settings and rag_settings.collections:
        collections = rag_settings.collections
    vector_hits: list[tuple[str, float]] = []
    text_hits: list[str] = []
    if mode in ("hybrid", "vector"):
        try:
            vector_hits = vector_search(user=user, query=query, collections=collections, tags=tags, embedder_name=embedder_name)
        except (EmbeddingError, VectorStoreError) as exc:
            # Keyword search still answers when the embedder or the vector store is down.
            logger.warning("vector search unavailable, using full-text search only: %s", exc)
    if mode in ("hybrid", "text"):
        text_hits = text_search(user=user, query=query, collections=collections, tags=tags)
    weights = (1.0, 0.0) if mode == "vector" else (0.0, 1.0) if mode == "text" else (
        settings.RAG_FUSION_VECTOR_WEIGHT, settings.RAG_FUSION_TEXT_WEIGHT)
    fused = fuse(vector_hits, text_hits, vector_weight=weights[0], text_weight=weights[1], threshold=threshold)[:top_k]
    return _load(user, fused)


def _load(user, fused) -> list[Retrieved]:
    if not fused:
        return []
    ids = [chunk_id for chunk_id, *_ in fused]
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id::text, c.document_id::text, d.title, c.position, c.heading, c.content FROM rag_chunks c "
            "JOIN rag_documents d ON d.id = c.document_id WHERE c.user_id = %s AND c.id = ANY(%s::uuid[]) "
            "AND d.status = %s",
            [user.id, ids, Status.INDEXED],
        )
        rows = {row[0]: row for row in cursor.fetchall()}
    results = []
    for chunk_id, score, vector_rank, text_rank, similarity in fused:
        row = rows.get(chunk_id)
        if row is None:  # a vector whose chunk is gone (document re-indexing or deleted meanwhile)
            continue
        results.append(Retrieved(chunk_id=chunk_id, document_id=row[1], title=row[2], position=row[3], heading=row[4],
                                 content=row[5], score=score, vector_rank=vector_rank, text_rank=text_rank,
                                 similarity=similarity))
    return results


def passage_url(result: Retrieved) -> str:
    return reverse("rag:document", args=[result.document_id]) + f"#chunk-{result.position}"


def passages_for_chat(*, user, query: str) -> tuple[list[Passage], dict[int, dict]]:
    """Numbered passages for the model, and what each citation number links to."""
    results = retrieve(user=user, query=query)
    passages, citations = [], {}
    for number, result in enumerate(results, start=1):
        passages.append(Passage(number=number, title=result.title, text=result.content, url=""))
        citations[number] = {"url": passage_url(result), "title": result.title, "document_id": result.document_id,
                             "position": result.position}
    return passages, citations
