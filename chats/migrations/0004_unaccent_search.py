"""Chats: conversation search ignores accents ("cancion" finds "canción" and the other way round).

``public.immutable_unaccent(text)`` folds accents; the full-text index is rebuilt on
``to_tsvector('english', public.immutable_unaccent(content))`` and the search query uses the same
expression, so the index serves it. With PostgreSQL's ``unaccent`` extension (contrib; created here
when the server has it and the owner may, or by ``config/bootstrap.py`` as a superuser) the function
wraps it, declared IMMUTABLE as an index expression requires (``unaccent()`` is only STABLE, as its
rules file could change; it does not here). Without the extension (pgserver's embedded PostgreSQL
has no contrib), the function folds the accented Latin letters of Latin-1 and Latin Extended-A/B to
their base letters with ``translate()``; the system check ``chats.W001`` says so. Running this
migration again after installing the extension (``migrate chats 0003`` then ``migrate chats``)
switches to it.

Backwards: the index on the plain expression again and no function; the extension, if this
migration created it, stays (other databases objects may use it, and it is harmless).
"""

from django.db import migrations

UNACCENT_SEARCH_SQL = """
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'unaccent is available but this role may not create it: accents are folded by a built-in table';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'unaccent' AND n.nspname = 'public') THEN
        EXECUTE $fn$
            CREATE FUNCTION public.immutable_unaccent(text) RETURNS text
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                AS $body$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $body$
        $fn$;
    ELSE
        EXECUTE $fn$
            CREATE FUNCTION public.immutable_unaccent(text) RETURNS text
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                AS $body$ SELECT translate($1,
                    'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ',
                    'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy') $body$
        $fn$;
    END IF;
END
$do$;
DROP INDEX IF EXISTS idx_messages_content_fulltext;
CREATE INDEX idx_messages_content_fulltext ON messages USING GIN (to_tsvector('english', public.immutable_unaccent(content)));
"""
DROP_UNACCENT_SEARCH_SQL = """
DROP INDEX IF EXISTS idx_messages_content_fulltext;
CREATE INDEX idx_messages_content_fulltext ON messages USING GIN (to_tsvector('english', content));
DROP FUNCTION IF EXISTS public.immutable_unaccent(text);
"""


class Migration(migrations.Migration):
    dependencies = [("chats", "0003_conversation_pins")]

    operations = [migrations.RunSQL(UNACCENT_SEARCH_SQL, DROP_UNACCENT_SEARCH_SQL)]
