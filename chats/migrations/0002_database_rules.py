"""Chats: owners filled from parents, message counters, full-text index, row-level security."""

from django.db import migrations

# Inserts, one row at a time as the app writes them: add to the locked conversation row (exact under
# concurrency). The session's last activity moves only forward (and once per transaction, as
# now() is fixed within one). Deletes and updates are statement-level over transition tables, so
# deleting a long conversation updates its row once.
MESSAGE_COUNTERS_SQL = """
CREATE FUNCTION messages_counters_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    session_id uuid;
BEGIN
    UPDATE conversations
       SET message_count = message_count + 1,
           token_count = token_count + NEW.tokens_input + NEW.tokens_output,
           last_message_at = greatest(last_message_at, NEW.timestamp)
     WHERE id = NEW.conversation_id
    RETURNING chat_session_id INTO session_id;
    UPDATE chat_sessions SET last_activity = NEW.timestamp WHERE id = session_id AND last_activity < NEW.timestamp;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_counters_insert AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_counters_insert();

CREATE FUNCTION messages_counters_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c
       SET message_count = greatest(c.message_count - d.n, 0),
           token_count = greatest(c.token_count - d.tokens, 0)
      FROM (SELECT conversation_id, count(*) AS n, sum(tokens_input + tokens_output) AS tokens
              FROM old_rows GROUP BY conversation_id) d
     WHERE c.id = d.conversation_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_counters_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_counters_delete();

CREATE FUNCTION messages_counters_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c
       SET token_count = greatest(c.token_count + d.tokens, 0)
      FROM (SELECT n.conversation_id, sum((n.tokens_input + n.tokens_output) - (o.tokens_input + o.tokens_output)) AS tokens
              FROM new_rows n JOIN old_rows o ON o.id = n.id GROUP BY n.conversation_id) d
     WHERE c.id = d.conversation_id AND d.tokens <> 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_counters_update AFTER UPDATE ON messages
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_counters_update();
"""
DROP_MESSAGE_COUNTERS_SQL = """
DROP TRIGGER IF EXISTS messages_counters_insert ON messages;
DROP TRIGGER IF EXISTS messages_counters_delete ON messages;
DROP TRIGGER IF EXISTS messages_counters_update ON messages;
DROP FUNCTION IF EXISTS messages_counters_insert();
DROP FUNCTION IF EXISTS messages_counters_delete();
DROP FUNCTION IF EXISTS messages_counters_update();
"""

FULLTEXT_SQL = "CREATE INDEX idx_messages_content_fulltext ON messages USING GIN (to_tsvector('english', content))"
DROP_FULLTEXT_SQL = "DROP INDEX IF EXISTS idx_messages_content_fulltext"

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
CONVERSATIONS_FILL_USER_ID_SQL = """
CREATE FUNCTION conversations_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM chat_sessions p WHERE p.id = NEW.chat_session_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'conversations.chat_session_id does not name a visible chat_sessions row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER conversations_fill_user_id BEFORE INSERT OR UPDATE OF chat_session_id, user_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_fill_user_id();
"""
DROP_CONVERSATIONS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS conversations_fill_user_id ON conversations;
DROP FUNCTION IF EXISTS conversations_fill_user_id();
"""
MESSAGES_FILL_USER_ID_SQL = """
CREATE FUNCTION messages_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM conversations p WHERE p.id = NEW.conversation_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'messages.conversation_id does not name a visible conversations row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER messages_fill_user_id BEFORE INSERT OR UPDATE OF conversation_id, user_id ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_fill_user_id();
"""
DROP_MESSAGES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS messages_fill_user_id ON messages;
DROP FUNCTION IF EXISTS messages_fill_user_id();
"""
RLS_CHAT_SESSIONS_SQL = """
ALTER TABLE chat_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY chat_sessions_owner ON chat_sessions USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_CHAT_SESSIONS_SQL = """
DROP POLICY IF EXISTS chat_sessions_owner ON chat_sessions;
ALTER TABLE chat_sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE chat_sessions DISABLE ROW LEVEL SECURITY;
"""
RLS_CONVERSATIONS_SQL = """
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY conversations_owner ON conversations USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_CONVERSATIONS_SQL = """
DROP POLICY IF EXISTS conversations_owner ON conversations;
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE conversations DISABLE ROW LEVEL SECURITY;
"""
RLS_MESSAGES_SQL = """
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_owner ON messages USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_MESSAGES_SQL = """
DROP POLICY IF EXISTS messages_owner ON messages;
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY;
ALTER TABLE messages DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("chats", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(CONVERSATIONS_FILL_USER_ID_SQL, DROP_CONVERSATIONS_FILL_USER_ID_SQL),
        migrations.RunSQL(MESSAGES_FILL_USER_ID_SQL, DROP_MESSAGES_FILL_USER_ID_SQL),
        migrations.RunSQL(MESSAGE_COUNTERS_SQL, DROP_MESSAGE_COUNTERS_SQL),
        migrations.RunSQL(FULLTEXT_SQL, DROP_FULLTEXT_SQL),
        migrations.RunSQL(RLS_CHAT_SESSIONS_SQL, DROP_RLS_CHAT_SESSIONS_SQL),
        migrations.RunSQL(RLS_CONVERSATIONS_SQL, DROP_RLS_CONVERSATIONS_SQL),
        migrations.RunSQL(RLS_MESSAGES_SQL, DROP_RLS_MESSAGES_SQL),
    ]
