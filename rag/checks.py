"""System checks: is the configured embedder one that exists, and the configured vector store
usable? Said plainly, at start-up."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError
from django.utils.translation import gettext as _

from core.pg import TEXT_MATCH_LEAKPROOF_QUERY, TEXT_MATCH_LEAKPROOF_SQL


@register()
def embedder_check(app_configs=None, **kwargs):
    """``EMBEDDER`` names a retired embedder (rag.E002): refuse to start, say what to do. Needs no
    database, so ``migrate``, ``check`` and ``make run`` all stop on it."""
    from rag.embedders import EMBEDDERS, RETIRED, normalise_name, retired_embedder_message

    name = normalise_name(settings.EMBEDDER or "")
    if name not in RETIRED:
        return []
    return [Error(retired_embedder_message(name), id="rag.E002",
                  hint=_("EMBEDDER may be one of: %(names)s.") % {"names": ", ".join(EMBEDDERS)})]


@register(Tags.database)
def vector_store_check(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from rag.embedders import RETIRED, get_embedder, normalise_name
    from rag.errors import VectorStoreError
    from rag.vectorstores import get_vector_store

    if normalise_name(settings.EMBEDDER or "") in RETIRED:
        return []  # rag.E002 says what to do; the store is checked again once the embedder is set

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


@register(Tags.database)
def full_text_index_check(app_configs=None, databases=None, **kwargs):
    """Full-text search reads its GIN index under row-level security only if tsvector @@ tsquery
    is LEAKPROOF (config/bootstrap.py marks it when it connects as a superuser)."""
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(TEXT_MATCH_LEAKPROOF_QUERY)
            leakproof = cursor.fetchone()[0]
    except DatabaseError as exc:
        return [Warning(f"Could not inspect the full-text match function: {exc}", id="rag.W002")]
    if leakproof:
        return []
    return [Warning(
        "Full-text search cannot use its index under row-level security: every search reads all of "
        "the user's chunks, which is slow for large libraries.",
        hint=f"Run once in this database as a superuser: {TEXT_MATCH_LEAKPROOF_SQL};",
        id="rag.W002",
    )]
