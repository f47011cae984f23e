"""Artifacts: references stay within one owner; row-level security."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import same_owner

CONVERSATION_SAME_OWNER = same_owner("artifacts", "conversation_id", "conversations")
PARENT_SAME_OWNER = same_owner("artifacts", "parent_id", "artifacts")


class Migration(migrations.Migration):
    dependencies = [("artifacts", "0001_initial"), ("chats", "0002_database_rules")]

    operations = [
        migrations.RunSQL(*CONVERSATION_SAME_OWNER),
        migrations.RunSQL(*PARENT_SAME_OWNER),
        EnableRLS("artifacts"),
    ]
