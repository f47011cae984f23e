"""Artifacts agents produce: versioned through ``parent_id``, shareable by token (ERD domain 4)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel


class ArtifactType(models.TextChoices):
    CODE = "CODE", _("Code")
    JSON = "JSON", _("JSON")
    HTML = "HTML", _("HTML")
    MARKDOWN = "MARKDOWN", _("Markdown")
    DIAGRAM = "DIAGRAM", _("Diagram")
    IMAGE = "IMAGE", _("Image")
    TABLE = "TABLE", _("Table")


class Artifact(UUIDModel, CreatedAtModel):
    agent = fields.ForeignKey("agents.Agent", db_on_delete="CASCADE", related_name="artifacts")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="artifacts", db_index=False)
    conversation = fields.ForeignKey("chats.Conversation", db_on_delete="SET NULL", null=True, blank=True, related_name="artifacts")
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=ArtifactType.choices)
    content = models.TextField(_("content"))
    version = models.IntegerField(_("version"), default=1, db_default=1)
    parent = fields.ForeignKey("self", db_on_delete="SET NULL", null=True, blank=True, related_name="versions")
    is_public = models.BooleanField(_("public"), default=False, db_default=False)
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    metadata = models.JSONField(default=dict, db_default=models.Value({}, models.JSONField()), blank=True)

    class Meta:
        db_table = "artifacts"
        verbose_name = _("artifact")
        verbose_name_plural = _("artifacts")
        constraints = [
            models.CheckConstraint(condition=Q(type__in=ArtifactType.values), name="artifacts_type_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="artifacts_version_positive"),
            models.CheckConstraint(condition=Q(is_public=False) | Q(share_token__isnull=False), name="artifacts_public_has_token"),
            # Versions form one line: a version has at most one next version (never a fork).
            models.UniqueConstraint(fields=["parent"], condition=Q(parent__isnull=False), name="artifacts_one_next_version"),
        ]
        indexes = [
            GinIndex(fields=["metadata"], name="idx_artifacts_metadata_gin"),
            models.Index(fields=["user", "-created_at"], name="idx_artifacts_user_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
