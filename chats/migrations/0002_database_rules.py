"""Chats: owners filled from parents, message counters, full-text index, row-level security."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import owner_from_parent

CONVERSATION_OWNER = owner_from_parent("conversations", "chat_session_id", "chat_sessions")
MESSAGE_OWNER = owner_from_parent("messages", "conversation_id", "conversations")

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


class Migration(migrations.Migration):
    dependencies = [("chats", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(*CONVERSATION_OWNER),
        migrations.RunSQL(*MESSAGE_OWNER),
        migrations.RunSQL(MESSAGE_COUNTERS_SQL, DROP_MESSAGE_COUNTERS_SQL),
        migrations.RunSQL(FULLTEXT_SQL, DROP_FULLTEXT_SQL),
        EnableRLS("chat_sessions"),
        EnableRLS("conversations"),
        EnableRLS("messages"),
    ]
