"""Hybrid retrieval over the user's documents: vector search and lexical search (BM25 over the
chunks' full-text vectors, ``rag.lexical``), fused.

Both halves return scored candidates; the fusion is a convex combination of normalised scores:
``score = (1 - w) * v + w * t``, where ``v`` is the cosine similarity min-max normalised over the
vector candidates and ``t`` the BM25 score divided by the question's best score (0 for a half
that missed the chunk), ``w`` the embedder's text weight (``rag.fusion``). Reciprocal-rank fusion, weighted or
not, keeps only the order of each half, so a passage matching one common word of a paraphrased
question could push a clearly similar passage out of the top k; on our question set
(``rag/data/eval_corpus.json``, ``manage.py evaluate_rag``) no RRF weights kept hybrid as good as its better
half with MiniLM, while this fusion does, for both embedders (figures in docs/decisions.md).
``threshold`` (retrieval settings) is a percentile of the embedder's similarity distribution
(``fusion.similarity_floor``): vector hits below it are dropped; full-text hits need at least one
matching term.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection
from django.urls import reverse

from core.tenancy import tenant

from .embedders import get_embedder
from .errors import EmbeddingError, VectorStoreError
from .fusion import diversify, fuse, similarity_floor, weights_for
from .lexical import LexicalResult, bm25
from .models import RagChunk, RagSettings, Status
from .types import Citation, CitedPassage
from .vectorstores import get_vector_store, namespace_for_user
from .vectorstores.base import META_DOCUMENT_ID

logger = logging.getLogger(__name__)

CANDIDATES = 30
# The vector stores filter by collection and tag only: under a document scope (an agent's or a
# chat's, see ``retrieve``) the vector half asks for this many and keeps those of the scope.
SCOPED_VECTOR_CANDIDATES = 200

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


def text_search(*, user, query: str, limit: int = CANDIDATES, collections=None, tags=None,
                document_ids: Collection[str] | None = None,
                exclude_document_ids: Collection[str] | None = None) -> list[tuple[str, float]]:
    """Lexical candidates: [(chunk id, BM25 score)], best first (``rag.lexical``)."""
    return text_search_result(user=user, query=query, limit=limit, collections=collections, tags=tags,
                              document_ids=document_ids, exclude_document_ids=exclude_document_ids).hits


def text_search_result(*, user, query: str, limit: int = CANDIDATES, collections=None, tags=None,
                       document_ids: Collection[str] | None = None,
                       exclude_document_ids: Collection[str] | None = None) -> LexicalResult:
    """``text_search`` with the question's BM25 ceiling, which fusion divides the scores by."""
    return bm25(user, query, limit, collections=collections, tags=tags, document_ids=document_ids,
                exclude_document_ids=exclude_document_ids)


def vector_search(*, user, query: str, limit: int = CANDIDATES, collections=None, tags=None,
                  embedder_name: str | None = None, document_ids: Collection[str] | None = None,
                  exclude_document_ids: Collection[str] | None = None) -> list[tuple[str, float]]:
    if document_ids is not None and not document_ids:
        return []
    embedder = get_embedder(embedder_name)
    store = get_vector_store(dimension=embedder.dimension, embedder=embedder.name)
    scoped = document_ids is not None or bool(exclude_document_ids)
    matches = store.query(namespace=namespace_for_user(user.id), vector=embedder.embed_query(query),
                          top_k=max(limit, SCOPED_VECTOR_CANDIDATES) if scoped else limit,
                          collections=collections or None, tags=tags or None)
    if scoped:
        matches = [m for m in matches if _in_scope(str(m.metadata.get(META_DOCUMENT_ID, "")), document_ids,
                                                   exclude_document_ids)]
    return [(m.id, m.score) for m in matches[:limit]]


def _in_scope(document_id: str, document_ids, exclude_document_ids) -> bool:
    if document_ids is not None and document_id not in {str(i) for i in document_ids}:
        return False
    return not (exclude_document_ids and document_id in {str(i) for i in exclude_document_ids})


def retrieve(*, user, query: str, top_k: int | None = None, threshold: float | None = None,
             collections=None, tags=None, mode: str = "hybrid", embedder_name: str | None = None,
             document_ids: Collection[str] | None = None,
             exclude_document_ids: Collection[str] | None = None) -> list[Retrieved]:
    """The best ``top_k`` passages of the user's indexed documents for ``query``.

    ``mode`` is "hybrid" (default), "vector" or "text" (the halves, for evaluation).
    ``document_ids`` (a chat's scope, resolved by the caller): only these documents, an empty one
    meaning none at all, and the retrieval settings' collections not applied (the scope is
    explicit); ``exclude_document_ids``: never these. Both hold for each half and for the loaded
    rows; the chatting user's RLS still bounds everything to their own documents.
    """
    if not query.strip():
        return []
    if document_ids is not None:
        document_ids = frozenset(str(i) for i in document_ids)
        if not document_ids:
            return []
        if collections is None:
            collections = []
    exclude_document_ids = frozenset(str(i) for i in exclude_document_ids or ())
    with tenant(user.id):
        if not RagChunk.objects.filter(user=user).exists():
            return []  # nothing indexed (most chats): no embedding, no search, no round trips
        rag_settings = RagSettings.objects.filter(user=user).first()
    top_k = top_k or (rag_settings.top_k if rag_settings else 5)
    threshold = float(threshold if threshold is not None else (rag_settings.threshold if rag_settings else 0))
    if collections is None and rag_settings and rag_settings.collections:
        collections = rag_settings.collections
    vector_hits: list[tuple[str, float]] = []
    text_hits: list[tuple[str, float]] = []
    text_ceiling = 0.0
    if mode in ("hybrid", "vector"):
        try:
            vector_hits = vector_search(user=user, query=query, collections=collections, tags=tags,
                                        embedder_name=embedder_name, document_ids=document_ids,
                                        exclude_document_ids=exclude_document_ids)
        except (EmbeddingError, VectorStoreError) as exc:
            # Keyword search still answers when the embedder or the vector store is down.
            logger.warning("vector search unavailable, using full-text search only: %s", exc)
    if mode in ("hybrid", "text"):
        lexical = text_search_result(user=user, query=query, collections=collections, tags=tags,
                                     document_ids=document_ids, exclude_document_ids=exclude_document_ids)
        text_hits, text_ceiling = lexical.hits, lexical.ceiling
    try:
        embedder = get_embedder(embedder_name).name
    except EmbeddingError:  # an unknown embedder: the vector half had nothing (logged above)
        embedder = ""
    text_weight = weights_for(embedder) if mode == "hybrid" else (0.0 if mode == "vector" else 1.0)
    fused = fuse(vector_hits, text_hits, text_weight=text_weight, threshold=similarity_floor(threshold, embedder),
                 text_ceiling=text_ceiling)
    if mode != "hybrid":  # a half alone: only its own hits
        fused = [f for f in fused if (f[2] if mode == "vector" else f[3]) is not None]
    loaded = _load(user, fused, document_ids=document_ids, exclude_document_ids=exclude_document_ids)
    return diversify(loaded, lambda passage: passage.document_id)[:top_k]


def _load(user, fused, *, document_ids=None, exclude_document_ids=()) -> list[Retrieved]:
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
        if not _in_scope(row[1], document_ids, exclude_document_ids):
            continue
        results.append(Retrieved(chunk_id=chunk_id, document_id=row[1], title=row[2], position=row[3], heading=row[4],
                                 content=row[5], score=score, vector_rank=vector_rank, text_rank=text_rank,
                                 similarity=similarity))
    return results


def passage_url(result: Retrieved) -> str:
    return reverse("rag:document", args=[result.document_id]) + f"#chunk-{result.position}"


CITATION_SNIPPET_CHARS = 200


def citation_snippet(result: Retrieved) -> str:
    """The passage's opening words, without the heading path its text starts with (rag.chunking),
    on one line and cut at a word near ``CITATION_SNIPPET_CHARS``: what a source chip shows on hover."""
    text = result.content or ""
    if result.heading:
        head, sep, rest = text.partition("\n\n")
        if sep and (head == result.heading or (head.startswith("…") and result.heading.endswith(head[1:]))):
            text = rest
    text = " ".join(text.split())
    if len(text) > CITATION_SNIPPET_CHARS:
        cut = text[:CITATION_SNIPPET_CHARS]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:.") + "…"
    return text


def passages_for_chat(*, user, query: str, document_ids: Collection[str] | None = None,
                      exclude_document_ids: Collection[str] | None = None) -> list[CitedPassage]:
    """The passages for this question, numbered from 1, each with what its number links to.

    ``document_ids`` / ``exclude_document_ids``: the chat's knowledge scope (see ``retrieve``;
    resolved by ``chats.attachments.knowledge_scope``)."""
    return [
        CitedPassage(
            citation=Citation(number=number, title=result.title, url=passage_url(result),
                              document_id=result.document_id, position=result.position,
                              snippet=citation_snippet(result)),
            text=result.content,
        )
        for number, result in enumerate(retrieve(user=user, query=query, document_ids=document_ids,
                                                 exclude_document_ids=exclude_document_ids), start=1)
    ]


def search_passages(*, user, query: str, collection: str | None = None, limit: int = 10) -> list[Retrieved]:
    """Passages for the documents page's search: hybrid, over the whole library (or one collection),
    whatever the chat's retrieval scope says."""
    return retrieve(user=user, query=query, top_k=limit, collections=[collection] if collection else [])


def system_passages(*, owner, query: str, collection: str, top_k: int = 5) -> list[Retrieved]:
    """Passages of ``owner``'s SYSTEM documents in ``collection`` (the platform-wide help centre;
    see ``services.system_document_put``), best first. ``owner`` is the system user owning them, so
    RLS keeps every person's documents out, and only SYSTEM documents are kept."""
    from .models import RagDocument, Source

    results = retrieve(user=owner, query=query, top_k=top_k, threshold=0, collections=[collection])
    if not results:
        return []
    with tenant(owner.id):
        system_ids = {str(i) for i in RagDocument.objects.filter(
            user=owner, source=Source.SYSTEM, pk__in=[r.document_id for r in results]).values_list("id", flat=True)}
    return [r for r in results if r.document_id in system_ids]
