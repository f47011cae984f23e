"""Connections to outside services and their sync history (ERD domain 6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import fields
from core.crypto import EncryptedTextField
from core.models import CreatedAtModel, UUIDModel


class Provider(models.TextChoices):
    GMAIL = "gmail", _("Gmail")
    GOOGLE_CALENDAR = "google_calendar", _("Google Calendar")
    NOTION = "notion", _("Notion")
    SLACK = "slack", _("Slack")
    GITHUB = "github", _("GitHub")


class McpIntegration(UUIDModel, CreatedAtModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="integrations", db_index=False)
    provider = models.CharField(_("provider"), max_length=30, choices=Provider.choices)
    access_token_encrypted = EncryptedTextField(_("access token"), null=True, blank=True)
    refresh_token_encrypted = EncryptedTextField(_("refresh token"), null=True, blank=True)
    scopes = models.CharField(_("scopes"), max_length=1000, blank=True, default="", db_default="")
    expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    last_sync = models.DateTimeField(_("last sync"), null=True, blank=True)

    class Meta:
        db_table = "mcp_integrations"
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="mcp_integrations_user_provider_unique"),
            models.CheckConstraint(condition=Q(provider__in=Provider.values), name="mcp_integrations_provider_valid"),
        ]

    def __str__(self) -> str:
        return self.get_provider_display()


class SyncStatus(models.TextChoices):
    RUNNING = "RUNNING", _("Running")
    SUCCESS = "SUCCESS", _("Success")
    PARTIAL = "PARTIAL", _("Partial")
    FAILED = "FAILED", _("Failed")


class McpSyncLog(UUIDModel, CreatedAtModel):
    integration = fields.ForeignKey(McpIntegration, db_on_delete="CASCADE", related_name="sync_logs", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    last_sync = models.DateTimeField(_("synced at"), null=True, blank=True)
    items_synced = models.IntegerField(_("items synced"), default=0, db_default=0)
    status = models.CharField(_("status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING, db_default=SyncStatus.RUNNING)
    error_message = models.TextField(_("error"), blank=True, default="", db_default="")

    class Meta:
        db_table = "mcp_sync_logs"
        verbose_name = _("sync log")
        verbose_name_plural = _("sync logs")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SyncStatus.values), name="mcp_sync_logs_status_valid"),
            models.CheckConstraint(condition=Q(items_synced__gte=0), name="mcp_sync_logs_items_non_negative"),
        ]
        indexes = [
            models.Index(fields=["integration", "-created_at"], name="idx_mcp_sync_logs_integration"),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.created_at:%Y-%m-%d %H:%M}"
