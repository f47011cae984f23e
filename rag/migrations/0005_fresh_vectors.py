"""Fresh vectors stay out of the HNSW index until a background compaction adds them.

Inserting into an HNSW index costs about a millisecond per vector on this kind of machine (a graph
search per insert), which made indexing wait on the index. New rows now arrive with
``indexed = false``: queries search the HNSW index over indexed rows and scan the user's few fresh
rows exactly, then merge; ``rag.compact_vectors`` flips rows to indexed in batches afterwards.
"""

from django.db import migrations

HNSW_DIMENSIONS = (256, 384, 512, 768, 1024, 1536)

FORWARD_SQL = """
DO $$
DECLARE
    dim int;
    has_vector boolean := (SELECT t.typname = 'vector' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                            WHERE a.attrelid = 'rag_vectors'::regclass AND a.attname = 'embedding');
BEGIN
    ALTER TABLE rag_vectors ADD COLUMN indexed boolean NOT NULL DEFAULT false;
    CREATE INDEX idx_rag_vectors_fresh ON rag_vectors (user_id, dimension) WHERE NOT indexed;
    IF has_vector THEN
        FOREACH dim IN ARRAY ARRAY[%(dimensions)s] LOOP
            EXECUTE format('DROP INDEX IF EXISTS idx_rag_vectors_hnsw_%%s', dim);
            EXECUTE format(
                'CREATE INDEX idx_rag_vectors_hnsw_%%s ON rag_vectors USING hnsw ((embedding::vector(%%s)) vector_cosine_ops) '
                'WITH (m = 16, ef_construction = 64) WHERE dimension = %%s AND indexed', dim, dim, dim);
        END LOOP;
    END IF;
END
$$;
""" % {"dimensions": ", ".join(str(d) for d in HNSW_DIMENSIONS)}

REVERSE_SQL = """
DO $$
DECLARE
    dim int;
    has_vector boolean := (SELECT t.typname = 'vector' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                            WHERE a.attrelid = 'rag_vectors'::regclass AND a.attname = 'embedding');
BEGIN
    DROP INDEX IF EXISTS idx_rag_vectors_fresh;
    IF has_vector THEN
        FOREACH dim IN ARRAY ARRAY[%(dimensions)s] LOOP
            EXECUTE format('DROP INDEX IF EXISTS idx_rag_vectors_hnsw_%%s', dim);
            EXECUTE format(
                'CREATE INDEX idx_rag_vectors_hnsw_%%s ON rag_vectors USING hnsw ((embedding::vector(%%s)) vector_cosine_ops) '
                'WITH (m = 16, ef_construction = 64) WHERE dimension = %%s', dim, dim, dim);
        END LOOP;
    END IF;
    ALTER TABLE rag_vectors DROP COLUMN indexed;
END
$$;
""" % {"dimensions": ", ".join(str(d) for d in HNSW_DIMENSIONS)}


class Migration(migrations.Migration):
    dependencies = [("rag", "0004_search_and_vectors")]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
