"""Accent folding returns plain-ASCII text at once (issue 15: a chat turn's own time).

Without PostgreSQL's ``unaccent`` extension (the embedded server), ``public.immutable_unaccent``
is ``translate()`` over 200 accented letters: about 0.3 ms for a 400-character message, paid on
every message insert (the full-text index's expression) — five times ``to_tsvector`` itself. Every
letter it replaces is outside ASCII, so plain-ASCII text (``octet_length = length``: most English)
is returned unchanged, as ``translate()`` returned it: the same results for every input, so the
index stays valid and is not rebuilt. Not STRICT any more: PostgreSQL inlines a STRICT SQL
function only when its body is strict, which a CASE is not, and the index serves the runtime role
only through the inlined body's LEAKPROOF functions (core.pg.FOLDED_MATCH_FUNCTIONS, which now
include octet_length and length). NULL still gives NULL (translate of NULL). Where the function
wraps the extension nothing changes.

Backwards: the ``translate()`` body of 0004 again, where this migration replaced it.
"""

from django.db import migrations

FROM_LETTERS = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
TO_LETTERS = "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy"

# Only the built-in table's body (chats 0004 without the extension) is replaced; the extension's stays.
ASCII_FAST_PATH_SQL = f"""
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = 'public.immutable_unaccent(text)'::regprocedure
                AND prosrc LIKE '%translate(%' AND prosrc NOT LIKE '%octet_length%') THEN
        CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $body$ SELECT CASE WHEN octet_length($1) = length($1) THEN $1 ELSE translate($1,
                '{FROM_LETTERS}',
                '{TO_LETTERS}') END $body$;
    END IF;
END
$do$;
"""
DROP_ASCII_FAST_PATH_SQL = f"""
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = 'public.immutable_unaccent(text)'::regprocedure
                AND prosrc LIKE '%octet_length%') THEN
        CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS $body$ SELECT translate($1,
                '{FROM_LETTERS}',
                '{TO_LETTERS}') $body$;
    END IF;
END
$do$;
"""


class Migration(migrations.Migration):
    dependencies = [("chats", "0006_rls_read_settings_once")]

    operations = [migrations.RunSQL(ASCII_FAST_PATH_SQL, DROP_ASCII_FAST_PATH_SQL)]
