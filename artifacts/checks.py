"""System check: the artifacts' GIN indexes can serve the runtime role (row-level security)."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from .pg import ARTIFACT_LEAKPROOF_FUNCTIONS


@register(Tags.database)
def artifact_index_check(app_configs=None, databases=None, **kwargs):
    """Under RLS the planner uses an index only for conditions whose functions are LEAKPROOF
    (config/bootstrap.py marks them as a superuser)."""
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT f FROM unnest(%s::text[]) AS f WHERE to_regprocedure(f) IS NOT NULL"
                " AND NOT (SELECT proleakproof FROM pg_proc WHERE oid = to_regprocedure(f))",
                [list(ARTIFACT_LEAKPROOF_FUNCTIONS)],
            )
            missing = [row[0] for row in cursor.fetchall()]
    except DatabaseError as exc:
        return [Warning(f"Could not inspect the functions of the artifact filters: {exc}", id="artifacts.W001")]
    if not missing:
        return []
    return [Warning(
        "The artifact filters and search cannot use their indexes under row-level security: each "
        "one reads all of the user's artifacts.",
        hint="Run once in this database as a superuser: " + " ".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in missing),
        id="artifacts.W001",
    )]
