"""Search boxes: "contains", with case and accents aside ("cafe" finds "Café", "ACCION" finds
"acción") — on every list that has a search box, in the ORM and in the lists written in SQL alike.

Both sides go through ``public.immutable_unaccent`` (chats migration 0004: PostgreSQL's unaccent
where the server has it, a built-in table of accented letters otherwise; plain-ASCII text is
returned at once) and are then compared as Django's ``icontains`` compares them on PostgreSQL:
upper-cased, the search's own ``%``, ``_`` and ``\\`` escaped.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast

FOLD_FUNCTION = "public.immutable_unaccent"


class Folded(Func):
    """The text with its accents folded (``public.immutable_unaccent``)."""

    function = FOLD_FUNCTION
    output_field = TextField()


def folded_contains(queryset: QuerySet, search: str, *fields: str) -> QuerySet:
    """``queryset`` narrowed to the rows where one of ``fields`` contains ``search``, case and
    accents aside. A field that is not text (a JSON list of tags) is compared as its text."""
    aliases = {f"{field}_folded": Folded(Cast(field, TextField())) for field in fields}
    needle = Folded(Value(search))
    match = Q()
    for alias in aliases:
        match |= Q(**{f"{alias}__icontains": needle})
    return queryset.alias(**aliases).filter(match)


def folded_like_sql(column: str, param: str) -> str:
    """The same test written in SQL, for ``column`` and the named parameter ``param``, whose value
    is ``like_pattern(search)``."""
    return f"UPPER({FOLD_FUNCTION}({column}::text)) LIKE UPPER({FOLD_FUNCTION}(%({param})s))"


def like_pattern(search: str) -> str:
    """``search`` as a LIKE pattern that matches it anywhere, its own wildcards escaped."""
    return f"%{connection.ops.prep_for_like_query(search)}%"
