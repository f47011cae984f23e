"""System check: is the configured vector store usable? Said plainly, at start-up."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError


@register(Tags.database)
def vector_store_check(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from rag.embedders import get_embedder
    from rag.vectorstores import get_vector_store
    from rag.vectorstores.base import VectorStoreError

    try:
        store = get_vector_store(dimension=get_embedder().dimension)
        problems = store.check()
        warnings = store.warnings() if hasattr(store, "warnings") else []
    except (VectorStoreError, DatabaseError) as exc:
        problems, warnings = [str(exc)], []
    except Exception as exc:  # a misconfigured embedder or store must be reported, not crash start-up
        problems, warnings = [f"{type(exc).__name__}: {exc}"], []
    return [Error(p, id="rag.E001", hint="See VECTOR_STORE in .env.example.") for p in problems] + [
        Warning(w, id="rag.W001") for w in warnings
    ]
