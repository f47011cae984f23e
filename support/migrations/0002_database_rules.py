"""Support: ticket numbers from a sequence, message owners, row-level security."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import owner_from_parent

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
MESSAGE_OWNER = owner_from_parent("support_messages", "ticket_id", "support_tickets")


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(TICKET_NUMBER_SQL, DROP_TICKET_NUMBER_SQL),
        migrations.RunSQL(*MESSAGE_OWNER),
        EnableRLS("support_tickets"),
        EnableRLS("support_messages"),
    ]
