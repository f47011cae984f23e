"""Search boxes: "contains", with case and accents aside ("cafe" finds "Café", "ACCION" finds
"acción") — on every list that has a search box, in the ORM and in the lists written in SQL alike.

Both sides go through ``public.immutable_unaccent`` (chats migration 0004: PostgreSQL's unaccent
where the server has it, a built-in table of accented letters otherwise; plain-ASCII text is
returned at once) and are then compared as Django's ``icontains`` compares them on PostgreSQL:
upper-cased, the search's own ``%``, ``_`` and ``\\`` escaped.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat

FOLD_FUNCTION = "public.immutable_unaccent"


class Folded(Func):
    """The text with its accents folded (``public.immutable_unaccent``)."""

    function = FOLD_FUNCTION
    output_field = TextField()


# Between the fields of a row searched together: a control character, taken out of every search
# (query parameters lose them anyway, core.params), so no match spans two fields.
_SEPARATOR = "\x01"


def folded_contains(queryset: QuerySet, search: str, *fields: str) -> QuerySet:
    """``queryset`` narrowed to the rows where one of ``fields`` contains ``search``, case and
    accents aside. A field that is not text (a JSON list of tags) is compared as its text. The
    fields are folded and compared as one text: one call per row, not one per field."""
    parts = []
    for field in fields:
        parts += [Value(_SEPARATOR), Cast(field, TextField())] if parts else [Cast(field, TextField())]
    text = Concat(*parts, output_field=TextField()) if len(parts) > 1 else parts[0]
    needle = Folded(Value(search.replace(_SEPARATOR, "")))
    return queryset.alias(search_folded=Folded(text)).filter(search_folded__icontains=needle)


def folded_like_sql(columns: str | tuple[str, ...], param: str) -> str:
    """The same test written in SQL, for ``columns`` and the named parameter ``param``, whose value
    is ``like_pattern(search)``."""
    columns = (columns,) if isinstance(columns, str) else columns
    text = f"{columns[0]}::text" if len(columns) == 1 else f"concat_ws(chr(1), {', '.join(f'{c}::text' for c in columns)})"
    return f"UPPER({FOLD_FUNCTION}({text})) LIKE UPPER({FOLD_FUNCTION}(%({param})s))"


def like_pattern(search: str) -> str:
    """``search`` as a LIKE pattern that matches it anywhere, its own wildcards escaped."""
    return f"%{connection.ops.prep_for_like_query(search.replace(_SEPARATOR, ''))}%"
