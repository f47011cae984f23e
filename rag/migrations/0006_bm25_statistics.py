"""BM25 statistics kept by the database: each chunk's length, and per user and language the
number of chunks, their total length and each term's document frequency.

``rag_chunks.search_length`` is the number of lexeme occurrences of the chunk's tsvector (the
same expression as ``search``, counted), a stored generated column, so it is never out of date.
``rag_lexical_totals`` (user, language: chunk count, total length) and ``rag_term_stats`` (user,
language, term: df) are kept by statement-level triggers on ``rag_chunks`` with transition tables:
an insert adds, a delete subtracts, an update does both. Increments are ``INSERT ... ON CONFLICT DO
UPDATE`` and decrements ``UPDATE ... SET df = df - n`` (atomic row updates: two concurrent
indexings never lose a count); each trigger first takes a transaction-level advisory lock per
owner, in owner order, so two transactions that write the same owner's terms in different orders
(a re-indexing deletes old chunks and inserts new ones) queue instead of deadlocking. Terms whose
df reaches zero are deleted. Both tables are tenant tables with the owner policy. The migration
fills them for existing chunks (as the bypass, inside this migration's transaction).
"""

from django.db import migrations

# The expression of rag_chunks.search (migration 0004), counted: the chunk's BM25 length.
LENGTH_SQL = """
CREATE FUNCTION rag_tsvector_length(tsvector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer FROM unnest($1) $$;
ALTER TABLE rag_chunks ADD COLUMN search_length integer GENERATED ALWAYS AS (rag_tsvector_length(
    CASE language
        WHEN 'english' THEN setweight(to_tsvector('english'::regconfig, coalesce(heading, '')), 'A')
                            || setweight(to_tsvector('english'::regconfig, content), 'B')
        WHEN 'spanish' THEN setweight(to_tsvector('spanish'::regconfig, coalesce(heading, '')), 'A')
                            || setweight(to_tsvector('spanish'::regconfig, content), 'B')
        ELSE setweight(to_tsvector('simple'::regconfig, coalesce(heading, '')), 'A')
             || setweight(to_tsvector('simple'::regconfig, content), 'B')
    END
)) STORED;
"""
DROP_LENGTH_SQL = """
ALTER TABLE rag_chunks DROP COLUMN IF EXISTS search_length;
DROP FUNCTION IF EXISTS rag_tsvector_length(tsvector);
"""

TABLES_SQL = """
CREATE TABLE rag_lexical_totals (
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    language varchar(10) NOT NULL CHECK (language IN ('english', 'spanish', 'simple')),
    chunk_count integer NOT NULL CHECK (chunk_count >= 0),
    total_length bigint NOT NULL CHECK (total_length >= 0),
    PRIMARY KEY (user_id, language)
);
CREATE TABLE rag_term_stats (
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    language varchar(10) NOT NULL CHECK (language IN ('english', 'spanish', 'simple')),
    term text NOT NULL,
    df integer NOT NULL CHECK (df > 0),
    PRIMARY KEY (user_id, language, term)
);
"""
DROP_TABLES_SQL = """
DROP TABLE IF EXISTS rag_term_stats;
DROP TABLE IF EXISTS rag_lexical_totals;
"""

RLS_SQL = """
ALTER TABLE rag_lexical_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_lexical_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_lexical_totals_owner ON rag_lexical_totals USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER TABLE rag_term_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_term_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_term_stats_owner ON rag_term_stats USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_SQL = """
DROP POLICY IF EXISTS rag_term_stats_owner ON rag_term_stats;
ALTER TABLE rag_term_stats NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_term_stats DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS rag_lexical_totals_owner ON rag_lexical_totals;
ALTER TABLE rag_lexical_totals NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_lexical_totals DISABLE ROW LEVEL SECURITY;
"""

TRIGGERS_SQL = """
CREATE FUNCTION rag_chunks_stats_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('rag_lexical_stats:' || o.user_id::text, 0))
       FROM (SELECT DISTINCT user_id FROM new_rows ORDER BY user_id) o;
    INSERT INTO rag_lexical_totals AS t (user_id, language, chunk_count, total_length)
    SELECT user_id, language, count(*), sum(search_length) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (user_id, language) DO UPDATE
        SET chunk_count = t.chunk_count + EXCLUDED.chunk_count, total_length = t.total_length + EXCLUDED.total_length;
    INSERT INTO rag_term_stats AS s (user_id, language, term, df)
    SELECT n.user_id, n.language, l.term, count(*)
      FROM new_rows n CROSS JOIN LATERAL unnest(tsvector_to_array(n.search)) AS l(term)
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (user_id, language, term) DO UPDATE SET df = s.df + EXCLUDED.df;
    RETURN NULL;
END
$$;

CREATE FUNCTION rag_chunks_stats_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('rag_lexical_stats:' || o.user_id::text, 0))
       FROM (SELECT DISTINCT user_id FROM old_rows ORDER BY user_id) o;
    UPDATE rag_lexical_totals t SET chunk_count = t.chunk_count - o.n, total_length = t.total_length - o.length
      FROM (SELECT user_id, language, count(*) AS n, sum(search_length) AS length FROM old_rows GROUP BY 1, 2) o
     WHERE t.user_id = o.user_id AND t.language = o.language;
    -- Terms no chunk holds any more go; the others count down.
    DELETE FROM rag_term_stats s
     USING (SELECT o.user_id, o.language, l.term, count(*) AS n
              FROM old_rows o CROSS JOIN LATERAL unnest(tsvector_to_array(o.search)) AS l(term) GROUP BY 1, 2, 3) c
     WHERE s.user_id = c.user_id AND s.language = c.language AND s.term = c.term AND s.df <= c.n;
    UPDATE rag_term_stats s SET df = s.df - c.n
      FROM (SELECT o.user_id, o.language, l.term, count(*) AS n
              FROM old_rows o CROSS JOIN LATERAL unnest(tsvector_to_array(o.search)) AS l(term) GROUP BY 1, 2, 3) c
     WHERE s.user_id = c.user_id AND s.language = c.language AND s.term = c.term;
    RETURN NULL;
END
$$;

CREATE FUNCTION rag_chunks_stats_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('rag_lexical_stats:' || o.user_id::text, 0))
       FROM (SELECT user_id FROM old_rows UNION SELECT user_id FROM new_rows ORDER BY user_id) o;
    UPDATE rag_lexical_totals t SET chunk_count = t.chunk_count - o.n, total_length = t.total_length - o.length
      FROM (SELECT user_id, language, count(*) AS n, sum(search_length) AS length FROM old_rows GROUP BY 1, 2) o
     WHERE t.user_id = o.user_id AND t.language = o.language;
    DELETE FROM rag_term_stats s
     USING (SELECT o.user_id, o.language, l.term, count(*) AS n
              FROM old_rows o CROSS JOIN LATERAL unnest(tsvector_to_array(o.search)) AS l(term) GROUP BY 1, 2, 3) c
     WHERE s.user_id = c.user_id AND s.language = c.language AND s.term = c.term AND s.df <= c.n;
    UPDATE rag_term_stats s SET df = s.df - c.n
      FROM (SELECT o.user_id, o.language, l.term, count(*) AS n
              FROM old_rows o CROSS JOIN LATERAL unnest(tsvector_to_array(o.search)) AS l(term) GROUP BY 1, 2, 3) c
     WHERE s.user_id = c.user_id AND s.language = c.language AND s.term = c.term;
    INSERT INTO rag_lexical_totals AS t (user_id, language, chunk_count, total_length)
    SELECT user_id, language, count(*), sum(search_length) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (user_id, language) DO UPDATE
        SET chunk_count = t.chunk_count + EXCLUDED.chunk_count, total_length = t.total_length + EXCLUDED.total_length;
    INSERT INTO rag_term_stats AS s (user_id, language, term, df)
    SELECT n.user_id, n.language, l.term, count(*)
      FROM new_rows n CROSS JOIN LATERAL unnest(tsvector_to_array(n.search)) AS l(term)
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (user_id, language, term) DO UPDATE SET df = s.df + EXCLUDED.df;
    RETURN NULL;
END
$$;

-- Emptying the chunks (an owner's maintenance, the test suite) empties every owner's statistics:
-- as the bypass, for these two statements. (DELETE, not TRUNCATE: the statement that fired this
-- may be truncating these tables too.)
CREATE FUNCTION rag_chunks_stats_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.bypass', true), '');
BEGIN
    PERFORM set_config('app.bypass', 'on', true);
    DELETE FROM rag_term_stats;
    DELETE FROM rag_lexical_totals;
    PERFORM set_config('app.bypass', previous, true);
    RETURN NULL;
END
$$;

CREATE TRIGGER rag_chunks_stats_insert AFTER INSERT ON rag_chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rag_chunks_stats_insert();
CREATE TRIGGER rag_chunks_stats_delete AFTER DELETE ON rag_chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rag_chunks_stats_delete();
CREATE TRIGGER rag_chunks_stats_update AFTER UPDATE ON rag_chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rag_chunks_stats_update();
CREATE TRIGGER rag_chunks_stats_truncate AFTER TRUNCATE ON rag_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION rag_chunks_stats_truncate();
"""
DROP_TRIGGERS_SQL = """
DROP TRIGGER IF EXISTS rag_chunks_stats_truncate ON rag_chunks;
DROP TRIGGER IF EXISTS rag_chunks_stats_update ON rag_chunks;
DROP TRIGGER IF EXISTS rag_chunks_stats_delete ON rag_chunks;
DROP TRIGGER IF EXISTS rag_chunks_stats_insert ON rag_chunks;
DROP FUNCTION IF EXISTS rag_chunks_stats_truncate();
DROP FUNCTION IF EXISTS rag_chunks_stats_update();
DROP FUNCTION IF EXISTS rag_chunks_stats_delete();
DROP FUNCTION IF EXISTS rag_chunks_stats_insert();
"""

# The statistics of the chunks that exist already, in the same transaction as the triggers (so no
# chunk written meanwhile is counted twice or missed). Every owner's rows: as the bypass, which the
# policies above allow; reset before the migration's transaction ends.
BACKFILL_SQL = """
SELECT set_config('app.bypass', 'on', true);
INSERT INTO rag_lexical_totals (user_id, language, chunk_count, total_length)
SELECT user_id, language, count(*), sum(search_length) FROM rag_chunks GROUP BY 1, 2;
INSERT INTO rag_term_stats (user_id, language, term, df)
SELECT c.user_id, c.language, l.term, count(*)
  FROM rag_chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.search)) AS l(term) GROUP BY 1, 2, 3;
SELECT set_config('app.bypass', '', true);
"""
DROP_BACKFILL_SQL = """
SELECT set_config('app.bypass', 'on', true);
DELETE FROM rag_term_stats;
DELETE FROM rag_lexical_totals;
SELECT set_config('app.bypass', '', true);
"""


class Migration(migrations.Migration):
    dependencies = [("rag", "0005_fresh_vectors")]

    operations = [
        migrations.RunSQL(LENGTH_SQL, DROP_LENGTH_SQL),
        migrations.RunSQL(TABLES_SQL, DROP_TABLES_SQL),
        migrations.RunSQL(RLS_SQL, DROP_RLS_SQL),
        migrations.RunSQL(TRIGGERS_SQL, DROP_TRIGGERS_SQL),
        migrations.RunSQL(BACKFILL_SQL, DROP_BACKFILL_SQL),
    ]
