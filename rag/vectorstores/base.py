"""The vector-store interface shared by the Pinecone store and the pgvector store.

Every user's vectors live in their own namespace (see ``namespace_for_user``); a record's metadata
carries the document it came from, the chunk's position, the collection, the tags and the title,
and queries narrow by collection and tags with ``build_filter``'s expression, written in Pinecone's
filter language so both stores understand the same thing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

# rag/retrieval.py (owned elsewhere) still imports the error from here; new code imports rag.errors.

# Metadata keys every store writes and filters on.
META_DOCUMENT_ID = "document_id"
META_CHUNK_INDEX = "chunk_index"
META_COLLECTION = "collection"
META_TAGS = "tags"
META_TITLE = "title"

T = TypeVar("T")


@dataclass(frozen=True)
class VectorRecord:
    id: str
    values: list[float]
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VectorMatch:
    id: str
    score: float  # cosine similarity, higher is nearer
    metadata: dict = field(default_factory=dict)


def chunk_metadata(*, document_id, chunk_index: int, collection: str | None = None,
                   tags: Sequence[str] = (), title: str = "") -> dict:
    """The metadata of one chunk's vector, in the shape both stores filter on."""
    metadata: dict = {
        META_DOCUMENT_ID: str(document_id),
        META_CHUNK_INDEX: int(chunk_index),
        META_TAGS: [str(tag) for tag in tags],
        META_TITLE: title or "",
    }
    if collection:  # Pinecone drops null values; an absent key is what "no collection" means
        metadata[META_COLLECTION] = str(collection)
    return metadata


def _unique(values: Sequence[str] | None) -> list[str]:
    return list(dict.fromkeys(str(value) for value in values or ()))


def build_filter(collections: Sequence[str] | None = None, tags: Sequence[str] | None = None) -> dict | None:
    """A metadata filter: collection in ``collections`` AND at least one of ``tags``.

    ``None`` or an empty list means "no restriction" for that dimension; with neither, there is
    no filter at all (``None``). Tags are a list field, and ``$in`` on a list matches when any
    element is in the set.
    """
    conditions = []
    if wanted := _unique(collections):
        conditions.append({META_COLLECTION: {"$in": wanted}})
    if wanted := _unique(tags):
        conditions.append({META_TAGS: {"$in": wanted}})
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return {"$and": conditions}


def document_filter(document_id) -> dict:
    """The metadata filter that selects every vector of one document."""
    return {META_DOCUMENT_ID: {"$eq": str(document_id)}}


def require_namespace(namespace: str) -> str:
    # An empty namespace would be the index's shared default one: never where a user's data goes.
    if not isinstance(namespace, str) or not namespace.strip():
        raise ValueError("A vector-store namespace must be a non-empty string (see namespace_for_user).")
    return namespace


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class VectorStore(ABC):
    """Where a user's chunk vectors are written, searched and removed."""

    name: str

    @abstractmethod
    def upsert(self, *, namespace: str, records: list[VectorRecord]) -> None:
        """Insert or replace records (same id: replaced), in as many requests as the backend needs."""

    @abstractmethod
    def query(self, *, namespace: str, vector: list[float], top_k: int,
              collections: list[str] | None = None, tags: list[str] | None = None) -> list[VectorMatch]:
        """The ``top_k`` records nearest to ``vector`` (highest score first), narrowed by ``build_filter``."""

    @abstractmethod
    def delete(self, *, namespace: str, ids: list[str]) -> None:
        """Remove records by id; ids that do not exist are ignored."""

    @abstractmethod
    def delete_document(self, *, namespace: str, document_id: str, ids: list[str] | None = None) -> None:
        """Remove every record of one document: the ``ids`` given and any record whose metadata names it."""

    @abstractmethod
    def stats(self) -> dict:
        """``{"dimension": int | None, "total_vector_count": int, "namespaces": {name: vector_count}}``."""

    @abstractmethod
    def check(self) -> list[str]:
        """Problems that prevent using the store, in plain words; ``[]`` when it is usable. Never raises."""
