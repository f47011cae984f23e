"""Support: ticket numbers from a sequence, message owners, row-level security."""

from django.db import migrations

TICKET_NUMBER_SQL = """
CREATE SEQUENCE support_ticket_number_seq;
CREATE FUNCTION support_tickets_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ticket_number IS NULL OR NEW.ticket_number = '' THEN
        NEW.ticket_number := 'T-' || lpad(nextval('support_ticket_number_seq')::text, 6, '0');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER support_tickets_number BEFORE INSERT ON support_tickets
    FOR EACH ROW EXECUTE FUNCTION support_tickets_number();
"""
DROP_TICKET_NUMBER_SQL = """
DROP TRIGGER IF EXISTS support_tickets_number ON support_tickets;
DROP FUNCTION IF EXISTS support_tickets_number();
DROP SEQUENCE IF EXISTS support_ticket_number_seq;
"""

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
SUPPORT_MESSAGES_FILL_USER_ID_SQL = """
CREATE FUNCTION support_messages_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM support_tickets p WHERE p.id = NEW.ticket_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'support_messages.ticket_id does not name a visible support_tickets row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER support_messages_fill_user_id BEFORE INSERT OR UPDATE OF ticket_id, user_id ON support_messages
    FOR EACH ROW EXECUTE FUNCTION support_messages_fill_user_id();
"""
DROP_SUPPORT_MESSAGES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS support_messages_fill_user_id ON support_messages;
DROP FUNCTION IF EXISTS support_messages_fill_user_id();
"""
RLS_SUPPORT_TICKETS_SQL = """
ALTER TABLE support_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY support_tickets_owner ON support_tickets USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_SUPPORT_TICKETS_SQL = """
DROP POLICY IF EXISTS support_tickets_owner ON support_tickets;
ALTER TABLE support_tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE support_tickets DISABLE ROW LEVEL SECURITY;
"""
RLS_SUPPORT_MESSAGES_SQL = """
ALTER TABLE support_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY support_messages_owner ON support_messages USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_SUPPORT_MESSAGES_SQL = """
DROP POLICY IF EXISTS support_messages_owner ON support_messages;
ALTER TABLE support_messages NO FORCE ROW LEVEL SECURITY;
ALTER TABLE support_messages DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(TICKET_NUMBER_SQL, DROP_TICKET_NUMBER_SQL),
        migrations.RunSQL(SUPPORT_MESSAGES_FILL_USER_ID_SQL, DROP_SUPPORT_MESSAGES_FILL_USER_ID_SQL),
        migrations.RunSQL(RLS_SUPPORT_TICKETS_SQL, DROP_RLS_SUPPORT_TICKETS_SQL),
        migrations.RunSQL(RLS_SUPPORT_MESSAGES_SQL, DROP_RLS_SUPPORT_MESSAGES_SQL),
    ]
