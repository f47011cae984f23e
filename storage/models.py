"""Folders, files, quotas, access logs and share links (ERD domain 7).

Quota counters are kept by triggers; a trigger refuses a file beyond the quota.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel

GIB = 1024 ** 3
MIB = 1024 ** 2


class StorageFolder(UUIDModel, CreatedAtModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="storage_folders", db_index=False)
    name = models.CharField(_("name"), max_length=255)
    parent = fields.ForeignKey("self", db_on_delete="CASCADE", null=True, blank=True, related_name="children")
    path = models.CharField(_("path"), max_length=2000)
    color = models.CharField(_("color"), max_length=20, blank=True, default="", db_default="")

    class Meta:
        db_table = "storage_folders"
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        constraints = [
            models.UniqueConstraint(fields=["user", "path"], name="storage_folders_user_path_unique"),
            models.CheckConstraint(condition=~Q(name="") & ~Q(name__contains="/"), name="storage_folders_name_valid"),
        ]

    def __str__(self) -> str:
        return self.path


class AccessLevel(models.TextChoices):
    PRIVATE = "PRIVATE", _("Private")
    SHARED = "SHARED", _("Shared")
    PUBLIC = "PUBLIC", _("Public")


class UsageContext(models.TextChoices):
    GENERAL = "GENERAL", _("General")
    AVATAR = "AVATAR", _("Avatar")
    THEME = "THEME", _("Theme")
    CHAT = "CHAT", _("Chat")
    RAG = "RAG", _("Documents")
    ARTIFACT = "ARTIFACT", _("Artifacts")
    HEALTH = "HEALTH", _("Health")
    FINANCE = "FINANCE", _("Finance")
    SUPPORT = "SUPPORT", _("Support")


class StorageFile(UUIDModel, CreatedAtModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="storage_files", db_index=False)
    folder = fields.ForeignKey(StorageFolder, db_on_delete="SET NULL", null=True, blank=True, related_name="files")
    filename = models.CharField(_("file name"), max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    storage_path = models.CharField(_("storage path"), max_length=1000)
    mime_type = models.CharField(_("type"), max_length=255, default="application/octet-stream", db_default="application/octet-stream")
    size = models.BigIntegerField(_("size"))
    checksum = models.CharField(_("checksum"), max_length=64)
    access_level = models.CharField(_("access"), max_length=10, choices=AccessLevel.choices, default=AccessLevel.PRIVATE, db_default=AccessLevel.PRIVATE)
    usage_context = models.CharField(_("used for"), max_length=10, choices=UsageContext.choices, default=UsageContext.GENERAL, db_default=UsageContext.GENERAL)
    is_processed = models.BooleanField(default=False, db_default=False)
    deleted_at = models.DateTimeField(_("in trash since"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        db_table = "storage_files"
        verbose_name = _("file")
        verbose_name_plural = _("files")
        constraints = [
            models.UniqueConstraint(fields=["user", "checksum"], name="storage_files_user_checksum_unique"),
            models.CheckConstraint(condition=Q(size__gte=0), name="storage_files_size_non_negative"),
            models.CheckConstraint(condition=Q(access_level__in=AccessLevel.values), name="storage_files_access_level_valid"),
            models.CheckConstraint(condition=Q(usage_context__in=UsageContext.values), name="storage_files_usage_context_valid"),
        ]
        indexes = [
            models.Index(
                fields=["user", "usage_context", "deleted_at"], name="idx_storage_files_user_context",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class StorageQuota(UUIDModel, CreatedAtModel):
    """One row per user (created by a trigger on users); ``used_storage``, ``file_count`` and
    ``usage_breakdown`` are kept by triggers on storage_files."""

    user = fields.OneToOneField(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="storage_quota")
    max_storage = models.BigIntegerField(_("storage limit"), default=GIB, db_default=GIB)
    max_file_size = models.BigIntegerField(_("file size limit"), default=100 * MIB, db_default=100 * MIB)
    max_files = models.IntegerField(_("file limit"), default=1000, db_default=1000)
    used_storage = models.BigIntegerField(_("used"), default=0, db_default=0, editable=False)
    file_count = models.IntegerField(_("files"), default=0, db_default=0, editable=False)
    usage_breakdown = models.JSONField(default=dict, db_default=models.Value({}, models.JSONField()), blank=True, editable=False)

    class Meta:
        db_table = "storage_quotas"
        verbose_name = _("storage quota")
        verbose_name_plural = _("storage quotas")
        constraints = [
            models.CheckConstraint(
                condition=Q(used_storage__gte=0) & Q(file_count__gte=0) & Q(max_storage__gte=0) & Q(max_files__gte=0) & Q(max_file_size__gte=0),
                name="storage_quotas_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"quota of {self.user_id}"


class FileAction(models.TextChoices):
    UPLOAD = "UPLOAD", _("Upload")
    VIEW = "VIEW", _("View")
    DOWNLOAD = "DOWNLOAD", _("Download")
    SHARE = "SHARE", _("Share")
    MOVE = "MOVE", _("Move")
    RENAME = "RENAME", _("Rename")
    DELETE = "DELETE", _("Move to trash")
    RESTORE = "RESTORE", _("Restore")
    # Beyond the ERD's list (storage/migrations/0003_shares.py): a preview, a wrong share-link
    # password, a link revoked.
    PREVIEW = "PREVIEW", _("Preview")
    DENIED = "DENIED", _("Wrong password")
    UNSHARE = "UNSHARE", _("Link revoked")


class FileAccessLog(UUIDModel):
    """Who did what to a file. ``user`` is who acted (may be anonymous through a share link);
    ``owner`` is the file's owner (denormalised, filled by a trigger) and is the RLS column."""

    file = fields.ForeignKey(StorageFile, db_on_delete="CASCADE", related_name="access_logs", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="SET NULL", null=True, blank=True, related_name="+")
    owner = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=FileAction.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_default=models.functions.Now())
    # Beyond the ERD: the share link the access came through (None for the owner's own pages).
    share = fields.ForeignKey("FileShare", db_on_delete="SET NULL", null=True, blank=True, related_name="access_logs",
                              db_index=False)

    class Meta:
        db_table = "file_access_logs"
        verbose_name = _("file access")
        verbose_name_plural = _("file accesses")
        constraints = [models.CheckConstraint(condition=Q(action__in=FileAction.values), name="file_access_logs_action_valid")]
        indexes = [
            models.Index(fields=["file", "-timestamp"], name="idx_file_access_logs_file"),
            models.Index(fields=["share", "-timestamp"], name="idx_file_access_logs_share", condition=Q(share__isnull=False)),
        ]


class ShareType(models.TextChoices):
    LINK = "LINK", _("Anyone with the link")
    PASSWORD = "PASSWORD", _("Link and password")


class FileShare(UUIDModel, CreatedAtModel):
    """A share link of one file or of one folder (``folder``, beyond the ERD; exactly one of the two).

    ``share_token`` holds the SHA-256 of the link's secret (``core.crypto.token_digest``), never the
    secret; ``password`` a Django password hash; ``user`` is the owner (filled by a trigger);
    ``revoked_at`` (beyond the ERD) ends the link while its access log stays readable.
    """

    file = fields.ForeignKey(StorageFile, db_on_delete="CASCADE", related_name="shares", null=True, blank=True)
    folder = fields.ForeignKey(StorageFolder, db_on_delete="CASCADE", related_name="shares", null=True, blank=True)
    shared_by = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+", db_column="shared_by")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    share_token = models.CharField(max_length=64, unique=True)
    share_type = models.CharField(_("type"), max_length=10, choices=ShareType.choices, default=ShareType.LINK, db_default=ShareType.LINK)
    password = models.CharField(max_length=256, blank=True, default="", db_default="")
    max_downloads = models.IntegerField(_("download limit"), null=True, blank=True)
    download_count = models.IntegerField(_("downloads"), default=0, db_default=0, editable=False)
    allow_download = models.BooleanField(_("allow download"), default=True, db_default=True)
    allow_view = models.BooleanField(_("allow view"), default=True, db_default=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        db_table = "file_shares"
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        constraints = [
            models.CheckConstraint(condition=Q(share_type__in=ShareType.values), name="file_shares_type_valid"),
            models.CheckConstraint(condition=Q(download_count__gte=0), name="file_shares_downloads_non_negative"),
            models.CheckConstraint(condition=Q(max_downloads__isnull=True) | Q(max_downloads__gte=1), name="file_shares_max_downloads_positive"),
            models.CheckConstraint(condition=~Q(share_type="PASSWORD") | ~Q(password=""), name="file_shares_password_when_protected"),
            models.CheckConstraint(
                condition=Q(file__isnull=False, folder__isnull=True) | Q(file__isnull=True, folder__isnull=False),
                name="file_shares_one_target",
            ),
        ]
        indexes = [
        ]
