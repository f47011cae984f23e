from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import FileAccessLog, FileShare, StorageFile, StorageFolder, StorageQuota


@admin.register(StorageFolder)
class StorageFolderAdmin(admin.ModelAdmin):
    list_display = ["path", "user", "color", "created_at"]
    search_fields = ["path", "name", "user__email"]
    autocomplete_fields = ["user", "parent"]
    list_select_related = ["user"]


@admin.register(StorageFile)
class StorageFileAdmin(admin.ModelAdmin):
    list_display = ["original_name", "user", "size", "mime_type", "usage_context", "access_level", "deleted_at", "created_at"]
    list_filter = ["usage_context", "access_level", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["original_name", "filename", "user__email", "checksum"]
    autocomplete_fields = ["user", "folder"]
    readonly_fields = ["size", "checksum", "storage_path", "created_at"]
    list_select_related = ["user"]


@admin.register(StorageQuota)
class StorageQuotaAdmin(admin.ModelAdmin):
    list_display = ["user", "used_storage", "max_storage", "file_count", "max_files", "max_file_size"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "used_storage", "file_count", "usage_breakdown", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # one per user, created with the user


@admin.register(FileAccessLog)
class FileAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action", "file", "user", "owner", "ip_address"]
    list_filter = ["action"]
    search_fields = ["file__original_name", "owner__email", "user__email", "ip_address"]
    list_select_related = ["file", "user", "owner"]
    date_hierarchy = "timestamp"


@admin.register(FileShare)
class FileShareAdmin(admin.ModelAdmin):
    list_display = ["file", "share_type", "user", "download_count", "max_downloads", "expires_at", "created_at"]
    list_filter = ["share_type", "allow_download"]
    search_fields = ["file__original_name", "user__email"]
    exclude = ["password", "share_token"]
    readonly_fields = ["file", "shared_by", "user", "download_count", "created_at"]
    list_select_related = ["file", "user"]

    def has_add_permission(self, request):
        return False
