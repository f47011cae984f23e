"""Row-level security reads the tenant settings once per statement, not once per row (issue 15).

Each policy of this app compared every row with ``current_setting(...)``, a function call per row.
The same expressions wrapped in scalar subqueries are InitPlans: evaluated once, then a parameter.
Same rows visible, same deny by default (no context: NULL matches nothing); the bypass works as before.
The reverse restores the old text exactly.
"""

from django.db import migrations

# Generated once by core.sqlgen (rls_once / alter_policy) and frozen here: a published migration's SQL never changes.
RLS_ONCE_SQL = """
ALTER POLICY rag_documents_owner ON rag_documents USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY rag_settings_owner ON rag_settings USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY rag_chunks_owner ON rag_chunks USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY rag_vectors_owner ON rag_vectors USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY rag_lexical_totals_owner ON rag_lexical_totals USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY rag_term_stats_owner ON rag_term_stats USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
"""
DROP_RLS_ONCE_SQL = """
ALTER POLICY rag_documents_owner ON rag_documents USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY rag_settings_owner ON rag_settings USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY rag_chunks_owner ON rag_chunks USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY rag_vectors_owner ON rag_vectors USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY rag_lexical_totals_owner ON rag_lexical_totals USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY rag_term_stats_owner ON rag_term_stats USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""


class Migration(migrations.Migration):
    dependencies = [("rag", "0007_search_by_trigger")]

    operations = [migrations.RunSQL(RLS_ONCE_SQL, DROP_RLS_ONCE_SQL)]
