"""Artifacts: one next version per version (a line, never a fork), full-text search over name and
content, and the one lookup of a shared version by its token across owners.

A visitor of ``/a/<token>/`` has no tenant: ``artifact_share_owner(digest)`` sets the bypass flag
for its single statement, returns the owner of the public artifact whose ``share_token`` equals
the digest (or NULL) and puts the flag back; everything else runs in that owner's context
(``artifacts.selectors.shared_artifact``), as ``file_share_owner`` does for files.
"""

from django.conf import settings
from django.db import migrations, models

# The search reads at most the first 200,000 characters of the content (a tsvector is bounded at 1 MB).
FULLTEXT_SQL = """
CREATE INDEX idx_artifacts_fulltext ON artifacts USING GIN (
    to_tsvector('simple', public.immutable_unaccent(name || ' ' || left(content, 200000)))
);
"""
DROP_FULLTEXT_SQL = "DROP INDEX IF EXISTS idx_artifacts_fulltext;"
ARTIFACT_SHARE_OWNER_SQL = """
CREATE FUNCTION artifact_share_owner(digest text) RETURNS uuid LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    previous text := coalesce(current_setting('app.bypass', true), '');
    found uuid;
BEGIN
    PERFORM set_config('app.bypass', 'on', true);
    SELECT a.user_id INTO found FROM artifacts a WHERE a.share_token = digest AND a.is_public;
    PERFORM set_config('app.bypass', previous, true);
    RETURN found;
END
$$;
"""
DROP_ARTIFACT_SHARE_OWNER_SQL = "DROP FUNCTION IF EXISTS artifact_share_owner(text);"


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0002_database_rules'),
        ('artifacts', '0002_database_rules'),
        ('chats', '0005_conversation_documents'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='artifact',
            constraint=models.UniqueConstraint(condition=models.Q(('parent__isnull', False)), fields=('parent',), name='artifacts_one_next_version'),
        ),
        migrations.RunSQL(FULLTEXT_SQL, DROP_FULLTEXT_SQL),
        migrations.RunSQL(ARTIFACT_SHARE_OWNER_SQL, DROP_ARTIFACT_SHARE_OWNER_SQL),
    ]
