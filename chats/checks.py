"""System check: does conversation search fold accents with PostgreSQL's unaccent? Said at start-up."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from core.pg import FOLDED_MATCH_FUNCTIONS, FOLDING_FUNCTION

# The body of public.immutable_unaccent (chats migration 0004) names unaccent() when the extension
# was there when it ran; otherwise it is the built-in translate() table.
FOLDING_QUERY = """
SELECT position('public.unaccent(' IN prosrc) > 0
  FROM pg_proc WHERE proname = 'immutable_unaccent' AND pronamespace = 'public'::regnamespace
"""


@register(Tags.database)
def accent_folding_check(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(FOLDING_QUERY)
            row = cursor.fetchone()
    except DatabaseError as exc:
        return [Warning(f"Could not inspect the accent folding of conversation search: {exc}", id="chats.W001")]
    if row is None or row[0]:  # not migrated yet (the migrations check says so), or unaccent in use
        return []
    return [Warning(
        "Conversation search folds accents with a built-in table of Latin letters: PostgreSQL's "
        "unaccent extension was not installed when the chats migrations ran (letters outside that "
        "table, and ligatures such as 'æ', still need to be typed as written).",
        hint="Install PostgreSQL's contrib package, run once in this database as a superuser: "
             "CREATE EXTENSION unaccent SCHEMA public; then: manage.py migrate chats 0003 && manage.py migrate chats",
        id="chats.W001",
    )]


@register(Tags.database)
def folded_match_index_check(app_configs=None, databases=None, **kwargs):
    """Under row-level security the search's GIN index serves the accent-folded match only if the
    functions it inlines are LEAKPROOF (config/bootstrap.py marks them as a superuser)."""
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    functions = list(FOLDED_MATCH_FUNCTIONS)
    try:
        with connection.cursor() as cursor:
            cursor.execute(FOLDING_QUERY)
            row = cursor.fetchone()
            if row is not None and row[0]:  # over unaccent: the wrapper is not inlined
                functions.append(FOLDING_FUNCTION)
            cursor.execute(
                "SELECT f FROM unnest(%s::text[]) AS f WHERE to_regprocedure(f) IS NOT NULL"
                " AND NOT (SELECT proleakproof FROM pg_proc WHERE oid = to_regprocedure(f))",
                [functions],
            )
            missing = [row[0] for row in cursor.fetchall()]
    except DatabaseError as exc:
        return [Warning(f"Could not inspect the functions of conversation search: {exc}", id="chats.W002")]
    if not missing:
        return []
    return [Warning(
        "Conversation search cannot use its index under row-level security: every search reads all "
        "of the user's messages, which is slow for long histories.",
        hint="Run once in this database as a superuser: "
             + " ".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in missing),
        id="chats.W002",
    )]
