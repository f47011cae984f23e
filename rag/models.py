"""The user's documents for retrieval and their retrieval settings (ERD domain 5)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel


class Source(models.TextChoices):
    FILE = "FILE", _("File")
    PASTE = "PASTE", _("Pasted text")
    URL = "URL", _("Web page")
    MCP = "MCP", _("Integration")
    SYSTEM = "SYSTEM", _("System")


class RagDocument(UUIDModel, CreatedAtModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="rag_documents", db_index=False)
    title = models.CharField(_("title"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_url = models.CharField(_("source URL"), max_length=2000, blank=True, default="", db_default="")
    indexed = models.BooleanField(_("indexed"), default=False, db_default=False)
    vector_ids = ArrayField(models.TextField(), default=list, blank=True, db_default=models.Value([], ArrayField(models.TextField())))
    chunk_count = models.IntegerField(_("chunks"), default=0, db_default=0)
    tags = ArrayField(models.TextField(), default=list, blank=True, db_default=models.Value([], ArrayField(models.TextField())))

    class Meta:
        db_table = "rag_documents"
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(condition=Q(source__in=Source.values), name="rag_documents_source_valid"),
            models.CheckConstraint(condition=Q(chunk_count__gte=0), name="rag_documents_chunk_count_non_negative"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_rag_documents_user_id")]

    def __str__(self) -> str:
        return self.title


class RagSettings(UUIDModel, CreatedAtModel):
    """One row per user (created by a trigger on users)."""

    user = fields.OneToOneField(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="rag_settings")
    top_k = models.IntegerField(_("passages per answer"), default=5, db_default=5)
    threshold = models.DecimalField(_("minimum relevance"), max_digits=4, decimal_places=3, default=0, db_default=0)
    collections = ArrayField(models.TextField(), default=list, blank=True, db_default=models.Value([], ArrayField(models.TextField())))

    class Meta:
        db_table = "rag_settings"
        verbose_name = _("retrieval settings")
        verbose_name_plural = _("retrieval settings")
        constraints = [
            models.CheckConstraint(condition=Q(top_k__gte=1) & Q(top_k__lte=50), name="rag_settings_top_k_range"),
            models.CheckConstraint(condition=Q(threshold__gte=0) & Q(threshold__lte=1), name="rag_settings_threshold_range"),
        ]

    def __str__(self) -> str:
        return f"retrieval settings of {self.user_id}"
