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


class Status(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    INDEXING = "INDEXING", _("Indexing")
    INDEXED = "INDEXED", _("Indexed")
    FAILED = "FAILED", _("Failed")


class RagDocument(UUIDModel, CreatedAtModel):
    """A document of the user's. Beyond the ERD: its collection, indexing state (status, progress,
    error), the extracted text (so re-indexing needs no refetch), its file in storage, and which
    embedder and dimension made its vectors."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="rag_documents", db_index=False)
    title = models.CharField(_("title"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_url = models.CharField(_("source URL"), max_length=2000, blank=True, default="", db_default="")
    indexed = models.BooleanField(_("indexed"), default=False, db_default=False)
    vector_ids = ArrayField(models.TextField(), default=list, blank=True, db_default=models.Value([], ArrayField(models.TextField())))
    chunk_count = models.IntegerField(_("chunks"), default=0, db_default=0)
    tags = ArrayField(models.TextField(), default=list, blank=True, db_default=models.Value([], ArrayField(models.TextField())))
    collection = models.CharField(_("collection"), max_length=100, blank=True, default="", db_default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_default=Status.QUEUED)
    progress = models.IntegerField(_("progress"), default=0, db_default=0)
    error_message = models.TextField(_("error"), blank=True, default="", db_default="")
    content = models.TextField(_("text"), blank=True, default="", db_default="")
    format = models.CharField(_("format"), max_length=10, blank=True, default="", db_default="")
    size_bytes = models.BigIntegerField(_("size"), default=0, db_default=0)
    storage_file = fields.ForeignKey("storage.StorageFile", db_on_delete="SET NULL", null=True, blank=True, related_name="+")
    embedder = models.CharField(_("embedder"), max_length=50, blank=True, default="", db_default="")
    dimension = models.IntegerField(_("dimension"), default=0, db_default=0)
    indexed_at = models.DateTimeField(_("indexed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=models.functions.Now())

    class Meta:
        db_table = "rag_documents"
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(condition=Q(source__in=Source.values), name="rag_documents_source_valid"),
            models.CheckConstraint(condition=Q(chunk_count__gte=0), name="rag_documents_chunk_count_non_negative"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="rag_documents_status_valid"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=100), name="rag_documents_progress_range"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="idx_rag_documents_user_id"),
            models.Index(fields=["user", "collection"], name="idx_rag_documents_collection"),
        ]

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


class RagChunk(UUIDModel):
    """A passage of a document, in order. ``search`` (a tsvector in the document's language, GIN-
    indexed) and ``search_length`` are set by the ``rag_chunks_search`` trigger (migration 0007) and
    serve the BM25 half of retrieval (``rag.lexical``). Its id is also its vector's id."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+", db_index=False)
    document = fields.ForeignKey(RagDocument, db_on_delete="CASCADE", related_name="chunks", db_index=False)
    position = models.IntegerField()
    heading = models.CharField(max_length=500, blank=True, default="", db_default="")
    content = models.TextField()
    start_char = models.IntegerField(default=0, db_default=0)
    end_char = models.IntegerField(default=0, db_default=0)
    language = models.CharField(max_length=10, default="simple", db_default="simple")

    class Meta:
        db_table = "rag_chunks"
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="rag_chunks_document_position_unique"),
            models.CheckConstraint(condition=Q(language__in=["english", "spanish", "simple"]), name="rag_chunks_language_valid"),
        ]
        indexes = [models.Index(fields=["user"], name="idx_rag_chunks_user_id")]


class RagVector(models.Model):
    """The pgvector store's rows: one per chunk, under the chunk's id, with the embedder that made it
    (re-indexing with another embedder overwrites it). Created by hand in the migration: ``embedding``
    is ``vector`` where pgvector exists and ``real[]`` elsewhere (exact search)."""

    id = models.TextField(primary_key=True)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+", db_constraint=False)
    document = fields.ForeignKey(RagDocument, db_on_delete="CASCADE", related_name="+", db_constraint=False)
    embedder = models.CharField(max_length=50)
    dimension = models.IntegerField()
    chunk_index = models.IntegerField()
    collection = models.CharField(max_length=100, blank=True, default="")
    tags = ArrayField(models.TextField(), default=list)
    title = models.TextField(blank=True, default="")

    class Meta:
        db_table = "rag_vectors"
        managed = False
