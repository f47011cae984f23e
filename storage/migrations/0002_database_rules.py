"""Storage: quota per user, quota enforcement and counters, owners, row-level security.

The quota check raises SQLSTATE ``23Q01`` (class 23: integrity) with the message ``storage_quota:<limit>`` (limit is
``max_file_size``, ``max_storage`` or ``max_files``); ``storage.errors`` turns it into a
user-facing message.
"""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import owner_from_parent, row_per_user, same_owner

QUOTA_PER_USER = row_per_user("storage_quotas")
ACCESS_LOG_OWNER = owner_from_parent("file_access_logs", "file_id", "storage_files", owner="owner_id")
SHARE_OWNER = owner_from_parent("file_shares", "file_id", "storage_files")
FILE_FOLDER_SAME_OWNER = same_owner("storage_files", "folder_id", "storage_folders")
FOLDER_PARENT_SAME_OWNER = same_owner("storage_folders", "parent_id", "storage_folders")

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


class Migration(migrations.Migration):
    dependencies = [("storage", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        EnableRLS("storage_folders"),
        EnableRLS("storage_files"),
        EnableRLS("storage_quotas"),
        EnableRLS("file_access_logs", owner_column="owner_id"),
        EnableRLS("file_shares"),
        migrations.RunSQL(*QUOTA_PER_USER),
        migrations.RunSQL(*ACCESS_LOG_OWNER),
        migrations.RunSQL(*SHARE_OWNER),
        migrations.RunSQL(*FILE_FOLDER_SAME_OWNER),
        migrations.RunSQL(*FOLDER_PARENT_SAME_OWNER),
        migrations.RunSQL(QUOTA_CHECK_SQL, DROP_QUOTA_CHECK_SQL),
        migrations.RunSQL(COUNTERS_SQL, DROP_COUNTERS_SQL),
    ]
