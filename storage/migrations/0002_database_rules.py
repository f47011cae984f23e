"""Storage: quota per user, quota enforcement and counters, owners, row-level security.

The quota check raises SQLSTATE ``23Q01`` (class 23: integrity) with the message ``storage_quota:<limit>`` (limit is
``max_file_size``, ``max_storage`` or ``max_files``); ``storage.errors`` turns it into a
user-facing message.
"""

from django.db import migrations

# BEFORE: lock the owner's quota row (so concurrent uploads are checked one after the other) and
# refuse what would not fit. Only changes that add to the counted total are checked: a new live
# file, a restore from the trash, a live file growing.
QUOTA_CHECK_SQL = """
CREATE FUNCTION storage_files_quota_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    q storage_quotas%ROWTYPE;
    was_counted boolean := TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL;
    added_bytes bigint;
    added_files int;
BEGIN
    IF NEW.deleted_at IS NOT NULL THEN
        RETURN NEW;
    END IF;
    added_bytes := NEW.size - CASE WHEN was_counted THEN OLD.size ELSE 0 END;
    added_files := CASE WHEN was_counted THEN 0 ELSE 1 END;
    IF added_bytes <= 0 AND added_files = 0 THEN
        RETURN NEW;
    END IF;
    SELECT * INTO q FROM storage_quotas WHERE user_id = NEW.user_id FOR UPDATE;
    IF NOT FOUND THEN
        -- Every user has a quota row; an invisible one means the file names another tenant.
        RAISE EXCEPTION 'storage_files.user_id is not the current tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.size > q.max_file_size THEN
        RAISE EXCEPTION 'storage_quota:max_file_size' USING ERRCODE = '23Q01',
            DETAIL = format('size %s > max_file_size %s', NEW.size, q.max_file_size);
    END IF;
    IF q.used_storage + added_bytes > q.max_storage THEN
        RAISE EXCEPTION 'storage_quota:max_storage' USING ERRCODE = '23Q01',
            DETAIL = format('used %s + %s > max_storage %s', q.used_storage, added_bytes, q.max_storage);
    END IF;
    IF q.file_count + added_files > q.max_files THEN
        RAISE EXCEPTION 'storage_quota:max_files' USING ERRCODE = '23Q01',
            DETAIL = format('files %s + %s > max_files %s', q.file_count, added_files, q.max_files);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER storage_files_quota_check BEFORE INSERT OR UPDATE OF deleted_at, size ON storage_files
    FOR EACH ROW EXECUTE FUNCTION storage_files_quota_check();
"""
DROP_QUOTA_CHECK_SQL = """
DROP TRIGGER IF EXISTS storage_files_quota_check ON storage_files;
DROP FUNCTION IF EXISTS storage_files_quota_check();
"""

# AFTER: a live file (deleted_at IS NULL) counts; moving to or from the trash, deleting, growing
# or changing usage context moves bytes and files between the totals and the breakdown.
COUNTERS_SQL = """
CREATE FUNCTION storage_quota_apply(owner uuid, context text, bytes bigint, files int) RETURNS void
LANGUAGE sql AS $$
    UPDATE storage_quotas
       SET used_storage = used_storage + bytes,
           file_count = file_count + files,
           usage_breakdown = jsonb_set(
               usage_breakdown, ARRAY[context],
               jsonb_build_object(
                   'bytes', coalesce((usage_breakdown -> context ->> 'bytes')::bigint, 0) + bytes,
                   'files', coalesce((usage_breakdown -> context ->> 'files')::int, 0) + files))
     WHERE user_id = owner;
$$;
CREATE FUNCTION storage_files_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        PERFORM storage_quota_apply(OLD.user_id, OLD.usage_context, -OLD.size, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        PERFORM storage_quota_apply(NEW.user_id, NEW.usage_context, NEW.size, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER storage_files_counters AFTER INSERT OR DELETE OR UPDATE OF deleted_at, size, usage_context
    ON storage_files FOR EACH ROW EXECUTE FUNCTION storage_files_counters();
"""
DROP_COUNTERS_SQL = """
DROP TRIGGER IF EXISTS storage_files_counters ON storage_files;
DROP FUNCTION IF EXISTS storage_files_counters();
DROP FUNCTION IF EXISTS storage_quota_apply(uuid, text, bigint, int);
"""

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
RLS_STORAGE_FOLDERS_SQL = """
ALTER TABLE storage_folders ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage_folders FORCE ROW LEVEL SECURITY;
CREATE POLICY storage_folders_owner ON storage_folders USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_STORAGE_FOLDERS_SQL = """
DROP POLICY IF EXISTS storage_folders_owner ON storage_folders;
ALTER TABLE storage_folders NO FORCE ROW LEVEL SECURITY;
ALTER TABLE storage_folders DISABLE ROW LEVEL SECURITY;
"""
RLS_STORAGE_FILES_SQL = """
ALTER TABLE storage_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage_files FORCE ROW LEVEL SECURITY;
CREATE POLICY storage_files_owner ON storage_files USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_STORAGE_FILES_SQL = """
DROP POLICY IF EXISTS storage_files_owner ON storage_files;
ALTER TABLE storage_files NO FORCE ROW LEVEL SECURITY;
ALTER TABLE storage_files DISABLE ROW LEVEL SECURITY;
"""
RLS_STORAGE_QUOTAS_SQL = """
ALTER TABLE storage_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage_quotas FORCE ROW LEVEL SECURITY;
CREATE POLICY storage_quotas_owner ON storage_quotas USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_STORAGE_QUOTAS_SQL = """
DROP POLICY IF EXISTS storage_quotas_owner ON storage_quotas;
ALTER TABLE storage_quotas NO FORCE ROW LEVEL SECURITY;
ALTER TABLE storage_quotas DISABLE ROW LEVEL SECURITY;
"""
RLS_FILE_ACCESS_LOGS_SQL = """
ALTER TABLE file_access_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_access_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY file_access_logs_owner ON file_access_logs USING (owner_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (owner_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FILE_ACCESS_LOGS_SQL = """
DROP POLICY IF EXISTS file_access_logs_owner ON file_access_logs;
ALTER TABLE file_access_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE file_access_logs DISABLE ROW LEVEL SECURITY;
"""
RLS_FILE_SHARES_SQL = """
ALTER TABLE file_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY file_shares_owner ON file_shares USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FILE_SHARES_SQL = """
DROP POLICY IF EXISTS file_shares_owner ON file_shares;
ALTER TABLE file_shares NO FORCE ROW LEVEL SECURITY;
ALTER TABLE file_shares DISABLE ROW LEVEL SECURITY;
"""
USERS_CREATE_STORAGE_QUOTAS_SQL = """
CREATE FUNCTION users_create_storage_quotas() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.user_id', true), '');
BEGIN
    PERFORM set_config('app.user_id', NEW.id::text, true);
    INSERT INTO storage_quotas (id, user_id, created_at)
    VALUES (gen_random_uuid(), NEW.id, now())
    ON CONFLICT (user_id) DO NOTHING;
    PERFORM set_config('app.user_id', previous, true);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_create_storage_quotas AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_create_storage_quotas();
DO $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT id FROM users LOOP
        PERFORM set_config('app.user_id', u.id::text, true);
        INSERT INTO storage_quotas (id, user_id, created_at)
        VALUES (gen_random_uuid(), u.id, now()) ON CONFLICT (user_id) DO NOTHING;
    END LOOP;
    PERFORM set_config('app.user_id', '', true);
END
$$;
"""
DROP_USERS_CREATE_STORAGE_QUOTAS_SQL = """
DROP TRIGGER IF EXISTS users_create_storage_quotas ON users;
DROP FUNCTION IF EXISTS users_create_storage_quotas();
"""
FILE_ACCESS_LOGS_FILL_OWNER_ID_SQL = """
CREATE FUNCTION file_access_logs_fill_owner_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.owner_id FROM storage_files p WHERE p.id = NEW.file_id;
    IF NEW.owner_id IS NULL THEN
        RAISE EXCEPTION 'file_access_logs.file_id does not name a visible storage_files row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER file_access_logs_fill_owner_id BEFORE INSERT OR UPDATE OF file_id, owner_id ON file_access_logs
    FOR EACH ROW EXECUTE FUNCTION file_access_logs_fill_owner_id();
"""
DROP_FILE_ACCESS_LOGS_FILL_OWNER_ID_SQL = """
DROP TRIGGER IF EXISTS file_access_logs_fill_owner_id ON file_access_logs;
DROP FUNCTION IF EXISTS file_access_logs_fill_owner_id();
"""
FILE_SHARES_FILL_USER_ID_SQL = """
CREATE FUNCTION file_shares_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM storage_files p WHERE p.id = NEW.file_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'file_shares.file_id does not name a visible storage_files row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER file_shares_fill_user_id BEFORE INSERT OR UPDATE OF file_id, user_id ON file_shares
    FOR EACH ROW EXECUTE FUNCTION file_shares_fill_user_id();
"""
DROP_FILE_SHARES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS file_shares_fill_user_id ON file_shares;
DROP FUNCTION IF EXISTS file_shares_fill_user_id();
"""
STORAGE_FILES_FOLDER_ID_SAME_OWNER_SQL = """
CREATE FUNCTION storage_files_folder_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.folder_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM storage_folders r WHERE r.id = NEW.folder_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'storage_files.folder_id must name a storage_folders row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER storage_files_folder_id_same_owner BEFORE INSERT OR UPDATE OF folder_id, user_id ON storage_files
    FOR EACH ROW EXECUTE FUNCTION storage_files_folder_id_same_owner();
"""
DROP_STORAGE_FILES_FOLDER_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS storage_files_folder_id_same_owner ON storage_files;
DROP FUNCTION IF EXISTS storage_files_folder_id_same_owner();
"""
STORAGE_FOLDERS_PARENT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION storage_folders_parent_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM storage_folders r WHERE r.id = NEW.parent_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'storage_folders.parent_id must name a storage_folders row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER storage_folders_parent_id_same_owner BEFORE INSERT OR UPDATE OF parent_id, user_id ON storage_folders
    FOR EACH ROW EXECUTE FUNCTION storage_folders_parent_id_same_owner();
"""
DROP_STORAGE_FOLDERS_PARENT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS storage_folders_parent_id_same_owner ON storage_folders;
DROP FUNCTION IF EXISTS storage_folders_parent_id_same_owner();
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(RLS_STORAGE_FOLDERS_SQL, DROP_RLS_STORAGE_FOLDERS_SQL),
        migrations.RunSQL(RLS_STORAGE_FILES_SQL, DROP_RLS_STORAGE_FILES_SQL),
        migrations.RunSQL(RLS_STORAGE_QUOTAS_SQL, DROP_RLS_STORAGE_QUOTAS_SQL),
        migrations.RunSQL(RLS_FILE_ACCESS_LOGS_SQL, DROP_RLS_FILE_ACCESS_LOGS_SQL),
        migrations.RunSQL(RLS_FILE_SHARES_SQL, DROP_RLS_FILE_SHARES_SQL),
        migrations.RunSQL(USERS_CREATE_STORAGE_QUOTAS_SQL, DROP_USERS_CREATE_STORAGE_QUOTAS_SQL),
        migrations.RunSQL(FILE_ACCESS_LOGS_FILL_OWNER_ID_SQL, DROP_FILE_ACCESS_LOGS_FILL_OWNER_ID_SQL),
        migrations.RunSQL(FILE_SHARES_FILL_USER_ID_SQL, DROP_FILE_SHARES_FILL_USER_ID_SQL),
        migrations.RunSQL(STORAGE_FILES_FOLDER_ID_SAME_OWNER_SQL, DROP_STORAGE_FILES_FOLDER_ID_SAME_OWNER_SQL),
        migrations.RunSQL(STORAGE_FOLDERS_PARENT_ID_SAME_OWNER_SQL, DROP_STORAGE_FOLDERS_PARENT_ID_SAME_OWNER_SQL),
        migrations.RunSQL(QUOTA_CHECK_SQL, DROP_QUOTA_CHECK_SQL),
        migrations.RunSQL(COUNTERS_SQL, DROP_COUNTERS_SQL),
    ]
