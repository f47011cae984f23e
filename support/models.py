"""Support tickets with AI triage, worked by staff in the admin (ERD domain 11)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel


class Priority(models.TextChoices):
    LOW = "LOW", _("Low")
    MEDIUM = "MEDIUM", _("Medium")
    HIGH = "HIGH", _("High")
    URGENT = "URGENT", _("Urgent")


class TicketStatus(models.TextChoices):
    OPEN = "OPEN", _("Open")
    IN_PROGRESS = "IN_PROGRESS", _("In progress")
    WAITING = "WAITING", _("Waiting for you")
    RESOLVED = "RESOLVED", _("Resolved")
    CLOSED = "CLOSED", _("Closed")


class TicketCategory(models.TextChoices):
    ACCOUNT = "ACCOUNT", _("Account")
    BILLING = "BILLING", _("Billing")
    AGENTS = "AGENTS", _("Agents and chat")
    DOCUMENTS = "DOCUMENTS", _("Documents")
    INTEGRATIONS = "INTEGRATIONS", _("Integrations")
    BUG = "BUG", _("Something is broken")
    OTHER = "OTHER", _("Other")


class AIDecision(models.TextChoices):
    ACCEPTED = "ACCEPTED", _("Accepted")
    SENT = "SENT", _("Sent as answer")
    DISCARDED = "DISCARDED", _("Discarded")


OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING)
PRIORITY_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)


class SupportTicket(UUIDModel, CreatedAtModel):
    """``ticket_number`` is given by a trigger from a sequence (T-000001, ...)."""

    ticket_number = models.CharField(_("number"), max_length=20, unique=True, blank=True)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="support_tickets", db_index=False)
    assigned_to = fields.ForeignKey(
        settings.AUTH_USER_MODEL, db_on_delete="SET NULL", null=True, blank=True, related_name="assigned_tickets"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.CharField(_("description"), max_length=10000)
    category = models.CharField(_("category"), max_length=15, choices=TicketCategory.choices, default=TicketCategory.OTHER, db_default=TicketCategory.OTHER)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM, db_default=Priority.MEDIUM)
    status = models.CharField(_("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN, db_default=TicketStatus.OPEN)
    ai_suggestion = models.TextField(_("AI suggestion"), blank=True, default="", db_default="")
    ai_resolved = models.BooleanField(_("resolved by AI"), default=False, db_default=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())
    # Beyond the ERD (support.services keeps them): the SLA clock and its due times in business
    # hours, when staff first answered, the last message or status change, the close, the rating,
    # what staff did with the AI suggestion, and the escalation marks (metadata["breaches"]).
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now, db_default=Now())
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    rating = models.SmallIntegerField(_("rating"), null=True, blank=True)
    ai_decision = models.CharField(_("AI suggestion decision"), max_length=10, choices=AIDecision.choices, blank=True,
                                   default="", db_default="")
    metadata = models.JSONField(default=dict, db_default=models.Value({}, models.JSONField()), blank=True)

    class Meta:
        db_table = "support_tickets"
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="support_tickets_priority_valid"),
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="support_tickets_status_valid"),
            models.CheckConstraint(condition=Q(category__in=TicketCategory.values), name="support_tickets_category_valid"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                                   name="support_tickets_rating_range"),
            models.CheckConstraint(condition=Q(ai_decision__in=["", *AIDecision.values]), name="support_tickets_ai_decision_valid"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="idx_support_tickets_user_id"),
            models.Index(fields=["status", "priority"], name="idx_support_tickets_queue"),
            models.Index(fields=["assigned_to", "status"], name="idx_support_tickets_assignee"),
            models.Index(fields=["response_due_at"], name="idx_support_tickets_due",
                         condition=Q(first_response_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.title}"


class SupportMessage(UUIDModel, CreatedAtModel):
    """A message on a ticket. ``user`` is the ticket's owner (filled by a trigger); ``author``
    who wrote it (the owner, a staff member, or nobody for the AI)."""

    ticket = fields.ForeignKey(SupportTicket, db_on_delete="CASCADE", related_name="messages", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    content = models.TextField(_("message"))
    is_staff = models.BooleanField(default=False, db_default=False)
    is_ai = models.BooleanField(default=False, db_default=False)
    author = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="SET NULL", null=True, blank=True, related_name="+")
    attachments = models.JSONField(default=list, db_default=models.Value([], models.JSONField()), blank=True)
    # Beyond the ERD: a staff note the ticket's owner never sees (page, email, polling).
    is_internal = models.BooleanField(_("internal note"), default=False, db_default=False)

    class Meta:
        db_table = "support_messages"
        verbose_name = _("support message")
        verbose_name_plural = _("support messages")
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="idx_support_messages_ticket"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(is_internal=False) | Q(is_staff=True), name="support_messages_internal_by_staff"),
        ]


class Language(models.TextChoices):
    EN = "en", _("English")
    ES = "es", _("Spanish")


class HelpArticle(UUIDModel, CreatedAtModel):
    """A help-centre article (platform-wide, not a tenant table). Published articles are indexed as
    RAG documents (source SYSTEM) owned by the help centre's system user (``support.helpcentre``)."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("address"), max_length=220, unique=True)
    body = models.TextField(_("body (Markdown)"), max_length=100_000)
    category = models.CharField(_("category"), max_length=15, choices=TicketCategory.choices, default=TicketCategory.OTHER,
                                db_default=TicketCategory.OTHER)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN,
                                db_default=Language.EN)
    is_published = models.BooleanField(_("published"), default=False, db_default=False)
    rag_document_id = models.UUIDField(_("indexed document"), null=True, blank=True, editable=False)
    created_by = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="SET NULL", null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    class Meta:
        db_table = "support_help_articles"
        verbose_name = _("help article")
        verbose_name_plural = _("help articles")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=TicketCategory.values), name="support_help_articles_category_valid"),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="support_help_articles_language_valid"),
        ]
        indexes = [
            models.Index(fields=["is_published", "language", "title"], name="idx_support_help_published"),
            models.Index(fields=["rag_document_id"], name="idx_support_help_document"),
        ]

    def __str__(self) -> str:
        return self.title


class CannedReply(UUIDModel, CreatedAtModel):
    """A staff reply template; ``{name}``, ``{email}``, ``{ticket}`` and ``{title}`` are filled in."""

    title = models.CharField(_("title"), max_length=120, unique=True)
    body = models.TextField(_("text"), max_length=10_000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    class Meta:
        db_table = "support_canned_replies"
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SupportMetrics(SupportTicket):
    """No table of its own: the admin's support-metrics page (a proxy so the admin index links it)."""

    class Meta:
        proxy = True
        verbose_name = _("support metrics")
        verbose_name_plural = _("support metrics")
