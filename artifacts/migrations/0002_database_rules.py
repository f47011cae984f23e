"""Artifacts: references stay within one owner; row-level security."""

from django.db import migrations

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
ARTIFACTS_CONVERSATION_ID_SAME_OWNER_SQL = """
CREATE FUNCTION artifacts_conversation_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.conversation_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM conversations r WHERE r.id = NEW.conversation_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'artifacts.conversation_id must name a conversations row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER artifacts_conversation_id_same_owner BEFORE INSERT OR UPDATE OF conversation_id, user_id ON artifacts
    FOR EACH ROW EXECUTE FUNCTION artifacts_conversation_id_same_owner();
"""
DROP_ARTIFACTS_CONVERSATION_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS artifacts_conversation_id_same_owner ON artifacts;
DROP FUNCTION IF EXISTS artifacts_conversation_id_same_owner();
"""
ARTIFACTS_PARENT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION artifacts_parent_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM artifacts r WHERE r.id = NEW.parent_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'artifacts.parent_id must name a artifacts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER artifacts_parent_id_same_owner BEFORE INSERT OR UPDATE OF parent_id, user_id ON artifacts
    FOR EACH ROW EXECUTE FUNCTION artifacts_parent_id_same_owner();
"""
DROP_ARTIFACTS_PARENT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS artifacts_parent_id_same_owner ON artifacts;
DROP FUNCTION IF EXISTS artifacts_parent_id_same_owner();
"""
RLS_ARTIFACTS_SQL = """
ALTER TABLE artifacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE artifacts FORCE ROW LEVEL SECURITY;
CREATE POLICY artifacts_owner ON artifacts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_ARTIFACTS_SQL = """
DROP POLICY IF EXISTS artifacts_owner ON artifacts;
ALTER TABLE artifacts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE artifacts DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("artifacts", "0001_initial"), ("chats", "0002_database_rules")]

    operations = [
        migrations.RunSQL(ARTIFACTS_CONVERSATION_ID_SAME_OWNER_SQL, DROP_ARTIFACTS_CONVERSATION_ID_SAME_OWNER_SQL),
        migrations.RunSQL(ARTIFACTS_PARENT_ID_SAME_OWNER_SQL, DROP_ARTIFACTS_PARENT_ID_SAME_OWNER_SQL),
        migrations.RunSQL(RLS_ARTIFACTS_SQL, DROP_RLS_ARTIFACTS_SQL),
    ]
