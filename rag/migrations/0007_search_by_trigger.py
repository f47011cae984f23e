"""A chunk's tsvector and its BM25 length computed once per write, by a trigger.

As two generated columns (0004, 0006) the chunk's text was analysed twice on every insert, about a
fifth of a millisecond per chunk each time: a tenth of the indexing pipeline's time. Both columns
become plain ones (their values kept) set by one BEFORE trigger from the same expression, so they
cannot be written otherwise either: any change of the language, heading, content or of these
columns recomputes both. The statistics table is updated in place on every indexing: half-empty
pages let those updates stay on the page (HOT), about twice as fast.
"""

from django.db import migrations

FORWARD_SQL = """
ALTER TABLE rag_chunks ALTER COLUMN search DROP EXPRESSION;
ALTER TABLE rag_chunks ALTER COLUMN search_length DROP EXPRESSION;
CREATE FUNCTION rag_chunks_search() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER rag_chunks_search BEFORE INSERT OR UPDATE OF language, heading, content, search, search_length
    ON rag_chunks FOR EACH ROW EXECUTE FUNCTION rag_chunks_search();
ALTER TABLE rag_chunks ALTER COLUMN search SET NOT NULL;
ALTER TABLE rag_chunks ALTER COLUMN search_length SET NOT NULL;
ALTER TABLE rag_term_stats SET (fillfactor = 50);
"""

# Back to the generated columns of 0004 and 0006 (recomputed from the text, the GIN index rebuilt).
REVERSE_SQL = """
ALTER TABLE rag_term_stats RESET (fillfactor);
DROP TRIGGER IF EXISTS rag_chunks_search ON rag_chunks;
DROP FUNCTION IF EXISTS rag_chunks_search();
ALTER TABLE rag_chunks DROP COLUMN search_length;
ALTER TABLE rag_chunks DROP COLUMN search;
ALTER TABLE rag_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE language
        WHEN 'english' THEN setweight(to_tsvector('english'::regconfig, coalesce(heading, '')), 'A')
                            || setweight(to_tsvector('english'::regconfig, content), 'B')
        WHEN 'spanish' THEN setweight(to_tsvector('spanish'::regconfig, coalesce(heading, '')), 'A')
                            || setweight(to_tsvector('spanish'::regconfig, content), 'B')
        ELSE setweight(to_tsvector('simple'::regconfig, coalesce(heading, '')), 'A')
             || setweight(to_tsvector('simple'::regconfig, content), 'B')
    END
) STORED;
CREATE INDEX idx_rag_chunks_search ON rag_chunks USING GIN (search);
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


class Migration(migrations.Migration):
    dependencies = [("rag", "0006_bm25_statistics")]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
