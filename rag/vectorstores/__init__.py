"""Vector stores: ``get_vector_store()`` picks the one ``settings.VECTOR_STORE`` names.

``"pinecone"`` is Pinecone's data plane (production); ``"pgvector"`` is the embedded default,
kept in PostgreSQL. Each user's vectors live in the namespace ``namespace_for_user(user.id)``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from rag.errors import VectorStoreError
from rag.vectorstores.base import (
    VectorMatch,
    VectorRecord,
    VectorStore,
    build_filter,
    chunk_metadata,
)

__all__ = [
    "VectorMatch",
    "VectorRecord",
    "VectorStore",
    "build_filter",
    "chunk_metadata",
    "get_vector_store",
    "namespace_for_user",
]

STORE_NAMES = ("pgvector", "pinecone")


def get_vector_store(name: str | None = None, **options) -> VectorStore:
    """The store called ``name`` (default ``settings.VECTOR_STORE``); ``options`` go to its constructor."""
    name = (name or settings.VECTOR_STORE or "").strip().lower()
    if name == "pinecone":
        from rag.vectorstores.pinecone import PineconeStore  # the SDK is imported only when used

        return PineconeStore(**options)
    if name == "pgvector":
        from rag.vectorstores.pgvector import PgVectorStore

        return PgVectorStore(**options)
    raise VectorStoreError(
        _("Unknown vector store %(name)r: VECTOR_STORE must be one of %(choices)s.")
        % {"name": name, "choices": ", ".join(STORE_NAMES)}
    )


def namespace_for_user(user_id) -> str:
    """The namespace holding one user's vectors, e.g. ``user-0b9e…``; one spelling per user."""
    return f"user-{uuid.UUID(str(user_id))}"
