"""RAG: chunk owners, the chunks' full-text column, the pgvector store's table, RLS.

``rag_vectors.embedding`` is pgvector's ``vector`` (with HNSW cosine indexes for the common
dimensions) where the extension is installed, and ``real[]`` (exact search) on a plain
PostgreSQL without it, so the schema migrates everywhere.
"""

from django.db import migrations

# One tsvector per chunk in the chunk's language (heading weighted above the text).
SEARCH_SQL = """
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
"""
DROP_SEARCH_SQL = """
DROP INDEX IF EXISTS idx_rag_chunks_search;
ALTER TABLE rag_chunks DROP COLUMN IF EXISTS search;
"""

HNSW_DIMENSIONS = (256, 384, 512, 768, 1024, 1536)

VECTORS_SQL = """
DO $$
DECLARE
    has_vector boolean := EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector');
    dim int;
BEGIN
    EXECUTE format($t$
        CREATE TABLE rag_vectors (
            id text PRIMARY KEY,
            user_id uuid NOT NULL,
            document_id uuid NOT NULL REFERENCES rag_documents(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            embedder varchar(50) NOT NULL,
            dimension integer NOT NULL CHECK (dimension > 0),
            chunk_index integer NOT NULL,
            collection varchar(100) NOT NULL DEFAULT '',
            tags text[] NOT NULL DEFAULT '{}',
            title text NOT NULL DEFAULT '',
            embedding %%s NOT NULL
        )$t$, CASE WHEN has_vector THEN 'vector' ELSE 'real[]' END);
    CREATE INDEX idx_rag_vectors_owner ON rag_vectors (user_id, embedder, dimension);
    CREATE INDEX idx_rag_vectors_document ON rag_vectors (document_id);
    IF has_vector THEN
        FOREACH dim IN ARRAY ARRAY[%(dimensions)s] LOOP
            EXECUTE format(
                'CREATE INDEX idx_rag_vectors_hnsw_%%s ON rag_vectors USING hnsw ((embedding::vector(%%s)) vector_cosine_ops) '
                'WITH (m = 16, ef_construction = 64) WHERE dimension = %%s', dim, dim, dim);
        END LOOP;
    END IF;
END
$$;
""" % {"dimensions": ", ".join(str(d) for d in HNSW_DIMENSIONS)}
DROP_VECTORS_SQL = "DROP TABLE IF EXISTS rag_vectors;"

VECTOR_OWNER_CHECK = """
CREATE FUNCTION rag_vectors_owner_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM rag_documents d WHERE d.id = NEW.document_id AND d.user_id = NEW.user_id) THEN
        RAISE EXCEPTION 'rag_vectors.document_id must name a rag_documents row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER rag_vectors_owner_check BEFORE INSERT OR UPDATE OF document_id, user_id ON rag_vectors
    FOR EACH ROW EXECUTE FUNCTION rag_vectors_owner_check();
"""
DROP_VECTOR_OWNER_CHECK = """
DROP TRIGGER IF EXISTS rag_vectors_owner_check ON rag_vectors;
DROP FUNCTION IF EXISTS rag_vectors_owner_check();
"""

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
RAG_CHUNKS_FILL_USER_ID_SQL = """
CREATE FUNCTION rag_chunks_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM rag_documents p WHERE p.id = NEW.document_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'rag_chunks.document_id does not name a visible rag_documents row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER rag_chunks_fill_user_id BEFORE INSERT OR UPDATE OF document_id, user_id ON rag_chunks
    FOR EACH ROW EXECUTE FUNCTION rag_chunks_fill_user_id();
"""
DROP_RAG_CHUNKS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS rag_chunks_fill_user_id ON rag_chunks;
DROP FUNCTION IF EXISTS rag_chunks_fill_user_id();
"""
RLS_RAG_CHUNKS_SQL = """
ALTER TABLE rag_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_chunks_owner ON rag_chunks USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_RAG_CHUNKS_SQL = """
DROP POLICY IF EXISTS rag_chunks_owner ON rag_chunks;
ALTER TABLE rag_chunks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_chunks DISABLE ROW LEVEL SECURITY;
"""
RLS_RAG_VECTORS_SQL = """
ALTER TABLE rag_vectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_vectors FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_vectors_owner ON rag_vectors USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_RAG_VECTORS_SQL = """
DROP POLICY IF EXISTS rag_vectors_owner ON rag_vectors;
ALTER TABLE rag_vectors NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_vectors DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("rag", "0003_document_indexing")]

    operations = [
        migrations.RunSQL(RAG_CHUNKS_FILL_USER_ID_SQL, DROP_RAG_CHUNKS_FILL_USER_ID_SQL),
        migrations.RunSQL(SEARCH_SQL, DROP_SEARCH_SQL),
        migrations.RunSQL(RLS_RAG_CHUNKS_SQL, DROP_RLS_RAG_CHUNKS_SQL),
        migrations.RunSQL(VECTORS_SQL, DROP_VECTORS_SQL),
        migrations.RunSQL(VECTOR_OWNER_CHECK, DROP_VECTOR_OWNER_CHECK),
        migrations.RunSQL(RLS_RAG_VECTORS_SQL, DROP_RLS_RAG_VECTORS_SQL),
    ]
