"""PostgreSQL facts the database bootstrap (config/bootstrap.py) and the system check share.

The metadata filters (``jsonb @> jsonb``) and the search over name and content (``textcat`` and
``left`` inside the indexed expression of migration 0003) read their GIN indexes under row-level
security only once these functions are LEAKPROOF (none raises an error that depends on the row's
data); a superuser marks them once per database, as for the chat's and RAG's searches.
"""

ARTIFACT_LEAKPROOF_FUNCTIONS = (
    "pg_catalog.jsonb_contains(jsonb, jsonb)",
    "pg_catalog.textcat(text, text)",
    'pg_catalog."left"(text, integer)',
)
