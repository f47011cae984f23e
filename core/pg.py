"""PostgreSQL statements shared by the database bootstrap (config) and the apps' system checks.

Kept in the kernel so both can import them: apps never import ``config``.
"""

# Full-text search reads its GIN index under row-level security only if ``tsvector @@ tsquery``
# is LEAKPROOF; a superuser marks it once per database (see docs/operations.md, "Database roles").
TEXT_MATCH_LEAKPROOF_SQL = "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF"
TEXT_MATCH_LEAKPROOF_QUERY = "SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure"

# Conversation search matches to_tsvector('english', public.immutable_unaccent(content)). Under
# row-level security the GIN index on that expression serves the match only if every function in it
# is LEAKPROOF (none raises an error that depends on the row's text): to_tsvector, and either what
# the built-in folding's body is inlined to (its plain-ASCII test and translate()), or (over the
# unaccent extension, whose STABLE unaccent() keeps the IMMUTABLE wrapper from being inlined) the
# wrapper itself. A superuser marks them once per database (config/bootstrap.py; the wrapper once
# it exists, i.e. from the bootstrap after the first migrate); the system check chats.W002 says
# when they are not.
FOLDED_MATCH_FUNCTIONS = (
    "pg_catalog.to_tsvector(regconfig, text)",
    "pg_catalog.translate(text, text, text)",
    # The built-in folding returns plain-ASCII text at once (chats migration 0007):
    # octet_length($1) = length($1). Neither function can raise an error, whatever the text.
    "pg_catalog.octet_length(text)",
    "pg_catalog.length(text)",
)
FOLDING_FUNCTION = "public.immutable_unaccent(text)"  # created by chats migration 0004
