"""Support: ticket numbers never change; help articles and canned replies behind row-level security.

The two new tables are platform tables, not tenant tables (no owner): help articles are readable
by everyone only once published and written only through the admin's audited bypass; canned replies
are staff-only, read and written only through the bypass.
"""

from django.db import migrations

TICKET_NUMBER_IMMUTABLE_SQL = """
CREATE FUNCTION support_tickets_number_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ticket_number IS DISTINCT FROM OLD.ticket_number THEN
        RAISE EXCEPTION 'support_tickets.ticket_number never changes'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER support_tickets_number_immutable BEFORE UPDATE OF ticket_number ON support_tickets
    FOR EACH ROW EXECUTE FUNCTION support_tickets_number_immutable();
"""
DROP_TICKET_NUMBER_IMMUTABLE_SQL = """
DROP TRIGGER IF EXISTS support_tickets_number_immutable ON support_tickets;
DROP FUNCTION IF EXISTS support_tickets_number_immutable();
"""
RLS_SUPPORT_HELP_ARTICLES_SQL = """
ALTER TABLE support_help_articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_help_articles FORCE ROW LEVEL SECURITY;
CREATE POLICY support_help_articles_read ON support_help_articles FOR SELECT USING (is_published OR current_setting('app.bypass', true) = 'on');
CREATE POLICY support_help_articles_staff ON support_help_articles USING (current_setting('app.bypass', true) = 'on') WITH CHECK (current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_SUPPORT_HELP_ARTICLES_SQL = """
DROP POLICY IF EXISTS support_help_articles_staff ON support_help_articles;
DROP POLICY IF EXISTS support_help_articles_read ON support_help_articles;
ALTER TABLE support_help_articles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE support_help_articles DISABLE ROW LEVEL SECURITY;
"""
RLS_SUPPORT_CANNED_REPLIES_SQL = """
ALTER TABLE support_canned_replies ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_canned_replies FORCE ROW LEVEL SECURITY;
CREATE POLICY support_canned_replies_staff ON support_canned_replies USING (current_setting('app.bypass', true) = 'on') WITH CHECK (current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_SUPPORT_CANNED_REPLIES_SQL = """
DROP POLICY IF EXISTS support_canned_replies_staff ON support_canned_replies;
ALTER TABLE support_canned_replies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE support_canned_replies DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("support", "0003_tickets_work_help_centre")]

    operations = [
        migrations.RunSQL(TICKET_NUMBER_IMMUTABLE_SQL, DROP_TICKET_NUMBER_IMMUTABLE_SQL),
        migrations.RunSQL(RLS_SUPPORT_HELP_ARTICLES_SQL, DROP_RLS_SUPPORT_HELP_ARTICLES_SQL),
        migrations.RunSQL(RLS_SUPPORT_CANNED_REPLIES_SQL, DROP_RLS_SUPPORT_CANNED_REPLIES_SQL),
    ]
