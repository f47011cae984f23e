"""Accent-insensitive passages: "informacion" finds "información", and "cafe" "café".

PostgreSQL's stemmers keep accents ("información" → ``inform``, "informacion" → ``informacion``),
so a question typed without them — the usual thing on a phone or a keyboard without Spanish keys —
missed the passage. ``rag_fold_accents(text)`` lower-cases and folds the acute, grave, circumflex,
diaeresis and tilde vowels, ç and ý/ÿ to their base letters before the text is analysed, on both
sides: the chunk's trigger (``rag_chunks_search``) and the question (``rag.lexical.TERMS_SQL``).
"ñ" is kept ("año" is not "ano"). Text that is plain ASCII (most English) is returned at once
(``octet_length = length``); the folding is a chain of ``replace()`` calls, about half the cost of
the text's own ``to_tsvector`` on accented text, where ``translate()`` over the same letters costs
twice as much. PostgreSQL's ``unaccent`` extension is not used even where it exists: the embedded
server has no contrib, and the same data must give the same ranking on every server.

Every existing chunk is re-analysed (``UPDATE ... SET search = search`` fires the trigger) as the
bypass, in this migration's transaction; the statistics triggers move the term counts with it.
Backwards: the trigger of 0007 again, the chunks re-analysed with it, the function dropped.
"""

from django.db import migrations

FOLD_SQL = """
CREATE FUNCTION rag_fold_accents(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN octet_length($1) = length($1) THEN $1 ELSE
replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(lower($1), 'á', 'a'), 'à', 'a'), 'â', 'a'), 'ä', 'a'), 'ã', 'a'), 'å', 'a'), 'é', 'e'), 'è', 'e'), 'ê', 'e'), 'ë', 'e'), 'í', 'i'), 'ì', 'i'), 'î', 'i'), 'ï', 'i'), 'ó', 'o'), 'ò', 'o'), 'ô', 'o'), 'ö', 'o'), 'õ', 'o'), 'ú', 'u'), 'ù', 'u'), 'û', 'u'), 'ü', 'u'), 'ç', 'c'), 'ý', 'y'), 'ÿ', 'y') END $$;
"""
DROP_FOLD_SQL = "DROP FUNCTION IF EXISTS rag_fold_accents(text);"

FOLDED_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION rag_chunks_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := CASE NEW.language
        WHEN 'english' THEN setweight(to_tsvector('english'::regconfig, rag_fold_accents(coalesce(NEW.heading, ''))), 'A')
                            || setweight(to_tsvector('english'::regconfig, rag_fold_accents(NEW.content)), 'B')
        WHEN 'spanish' THEN setweight(to_tsvector('spanish'::regconfig, rag_fold_accents(coalesce(NEW.heading, ''))), 'A')
                            || setweight(to_tsvector('spanish'::regconfig, rag_fold_accents(NEW.content)), 'B')
        ELSE setweight(to_tsvector('simple'::regconfig, rag_fold_accents(coalesce(NEW.heading, ''))), 'A')
             || setweight(to_tsvector('simple'::regconfig, rag_fold_accents(NEW.content)), 'B')
    END;
    -- The count of rag_tsvector_length(), inline: a plan PL/pgSQL keeps, where calling the SQL
    -- function for each row would plan its body again each time.
    SELECT coalesce(sum(coalesce(array_length(v.positions, 1), 1)), 0)::integer INTO NEW.search_length
      FROM unnest(NEW.search) AS v;
    RETURN NEW;
END
$$;
"""

# 0007's trigger function, as it was.
UNFOLD_SQL = """
CREATE OR REPLACE FUNCTION rag_chunks_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := CASE NEW.language
        WHEN 'english' THEN setweight(to_tsvector('english'::regconfig, coalesce(NEW.heading, '')), 'A')
                            || setweight(to_tsvector('english'::regconfig, NEW.content), 'B')
        WHEN 'spanish' THEN setweight(to_tsvector('spanish'::regconfig, coalesce(NEW.heading, '')), 'A')
                            || setweight(to_tsvector('spanish'::regconfig, NEW.content), 'B')
        ELSE setweight(to_tsvector('simple'::regconfig, coalesce(NEW.heading, '')), 'A')
             || setweight(to_tsvector('simple'::regconfig, NEW.content), 'B')
    END;
    -- The count of rag_tsvector_length(), inline: a plan PL/pgSQL keeps, where calling the SQL
    -- function for each row would plan its body again each time.
    SELECT coalesce(sum(coalesce(array_length(v.positions, 1), 1)), 0)::integer INTO NEW.search_length
      FROM unnest(NEW.search) AS v;
    RETURN NEW;
END
$$;
"""

# Every chunk analysed again by the trigger in place (forwards and backwards alike).
REANALYSE_SQL = """
SELECT set_config('app.bypass', 'on', true);
UPDATE rag_chunks SET search = search;
SELECT set_config('app.bypass', '', true);
"""


class Migration(migrations.Migration):
    dependencies = [("rag", "0008_rls_read_settings_once")]

    operations = [
        migrations.RunSQL(FOLD_SQL, DROP_FOLD_SQL),
        migrations.RunSQL(FOLDED_TRIGGER_SQL + REANALYSE_SQL, UNFOLD_SQL + REANALYSE_SQL),
    ]
