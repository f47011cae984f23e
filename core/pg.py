"""PostgreSQL statements shared by the database bootstrap (config) and the apps' system checks.

Kept in the kernel so both can import them: apps never import ``config``.
"""

# Full-text search reads its GIN index under row-level security only if ``tsvector @@ tsquery``
# is LEAKPROOF; a superuser marks it once per database (see docs/operations.md, "Database roles").
TEXT_MATCH_LEAKPROOF_SQL = "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF"
TEXT_MATCH_LEAKPROOF_QUERY = "SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure"
