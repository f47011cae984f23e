"""RAG: retrieval settings for every user; row-level security."""

from django.db import migrations

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
RLS_RAG_DOCUMENTS_SQL = """
ALTER TABLE rag_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_documents_owner ON rag_documents USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_RAG_DOCUMENTS_SQL = """
DROP POLICY IF EXISTS rag_documents_owner ON rag_documents;
ALTER TABLE rag_documents NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_documents DISABLE ROW LEVEL SECURITY;
"""
RLS_RAG_SETTINGS_SQL = """
ALTER TABLE rag_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE rag_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY rag_settings_owner ON rag_settings USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_RAG_SETTINGS_SQL = """
DROP POLICY IF EXISTS rag_settings_owner ON rag_settings;
ALTER TABLE rag_settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rag_settings DISABLE ROW LEVEL SECURITY;
"""
USERS_CREATE_RAG_SETTINGS_SQL = """
CREATE FUNCTION users_create_rag_settings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.user_id', true), '');
BEGIN
    PERFORM set_config('app.user_id', NEW.id::text, true);
    INSERT INTO rag_settings (id, user_id, created_at)
    VALUES (gen_random_uuid(), NEW.id, now())
    ON CONFLICT (user_id) DO NOTHING;
    PERFORM set_config('app.user_id', previous, true);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_create_rag_settings AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_create_rag_settings();
DO $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT id FROM users LOOP
        PERFORM set_config('app.user_id', u.id::text, true);
        INSERT INTO rag_settings (id, user_id, created_at)
        VALUES (gen_random_uuid(), u.id, now()) ON CONFLICT (user_id) DO NOTHING;
    END LOOP;
    PERFORM set_config('app.user_id', '', true);
END
$$;
"""
DROP_USERS_CREATE_RAG_SETTINGS_SQL = """
DROP TRIGGER IF EXISTS users_create_rag_settings ON users;
DROP FUNCTION IF EXISTS users_create_rag_settings();
"""


class Migration(migrations.Migration):
    dependencies = [("rag", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(RLS_RAG_DOCUMENTS_SQL, DROP_RLS_RAG_DOCUMENTS_SQL),
        migrations.RunSQL(RLS_RAG_SETTINGS_SQL, DROP_RLS_RAG_SETTINGS_SQL),
        migrations.RunSQL(USERS_CREATE_RAG_SETTINGS_SQL, DROP_USERS_CREATE_RAG_SETTINGS_SQL),
    ]
