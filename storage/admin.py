"""Storage in the admin (issue 09 item 8): staff see metadata and logs, never a file's contents.

Every page runs through the audited bypass (``core.tenancy.TenantMiddleware`` writes an
``audit_logs`` row naming the model, the object and the view). What each role may open follows
``accounts.roles`` (SUPPORT: nothing of storage; ADMIN and SUPER_ADMIN: read). Folders, files, access
logs and links are written by the app only — paths kept consistent for every descendant, blobs and
rows together, counters by triggers — so here they are read-only; the two writes that make sense
are a user's quota limits and revoking a link (the action states its permission: ``change``).
No page links to or shows a blob: there is no download or preview in the admin.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin

from .models import FileAccessLog, FileShare, StorageFile, StorageFolder, StorageQuota


class MetadataAdmin(admin.ModelAdmin):
    """Shown, never written from the admin (add, change and delete are refused for every role)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StorageFolder)
class StorageFolderAdmin(MetadataAdmin):
    list_display = ["path", "user", "color", "created_at"]
    search_fields = ["path", "name", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "path", "parent", "color", "created_at"]
    readonly_fields = fields


@admin.register(StorageFile)
class StorageFileAdmin(MetadataAdmin):
    list_display = ["original_name", "user", "size", "mime_type", "usage_context", "access_level", "is_processed",
                    "deleted_at", "created_at"]
    list_filter = ["usage_context", "access_level", "is_processed", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["original_name", "filename", "user__email", "checksum"]
    list_select_related = ["user"]
    fields = ["user", "folder", "filename", "original_name", "mime_type", "size", "checksum", "usage_context",
              "access_level", "is_processed", "expires_at", "deleted_at", "created_at", "storage_path", "access_log"]
    readonly_fields = fields

    @admin.display(description=_("access log"))
    def access_log(self, obj):
        url = reverse("admin:storage_fileaccesslog_changelist") + f"?file__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Accesses of this file"))


@admin.register(StorageQuota)
class StorageQuotaAdmin(admin.ModelAdmin):
    list_display = ["user", "used_storage", "max_storage", "file_count", "max_files", "max_file_size"]
    search_fields = ["user__email"]
    # The limits follow the user's subscription tier (storage.services.quota_sync rewrites them on
    # every upload and tier change): change the tier, not the row.
    readonly_fields = ["user", "used_storage", "max_storage", "file_count", "max_files", "max_file_size",
                       "usage_breakdown", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # one per user, created with the user

    def has_delete_permission(self, request, obj=None):
        return False  # the row lives as long as its user


@admin.register(FileAccessLog)
class FileAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action", "file", "user", "owner", "ip_address", "share"]
    list_filter = ["action"]
    search_fields = ["file__original_name", "owner__email", "user__email", "ip_address"]
    list_select_related = ["file", "user", "owner", "share"]
    date_hierarchy = "timestamp"


@admin.register(FileShare)
class FileShareAdmin(admin.ModelAdmin):
    list_display = ["__str__", "file", "folder", "share_type", "user", "download_count", "max_downloads", "expires_at",
                    "revoked_at", "created_at"]
    list_filter = ["share_type", "allow_download", "allow_view", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["file__original_name", "folder__path", "user__email"]
    # Neither the token's digest nor the password's hash is shown.
    fields = ["file", "folder", "shared_by", "user", "share_type", "allow_view", "allow_download", "max_downloads",
              "download_count", "expires_at", "revoked_at", "created_at"]
    readonly_fields = fields
    list_select_related = ["file", "folder", "user"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the link's access log stays

    @admin.action(description=_("Revoke the selected links"), permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, ngettext("%(count)d link revoked.", "%(count)d links revoked.", count) % {"count": count},
                          messages.SUCCESS)
