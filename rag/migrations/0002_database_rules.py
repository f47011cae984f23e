"""RAG: retrieval settings for every user; row-level security."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import row_per_user

SETTINGS_PER_USER = row_per_user("rag_settings")


class Migration(migrations.Migration):
    dependencies = [("rag", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        EnableRLS("rag_documents"),
        EnableRLS("rag_settings"),
        migrations.RunSQL(*SETTINGS_PER_USER),
    ]
