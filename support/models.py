"""Support tickets with AI triage, worked by staff in the admin (ERD domain 11)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
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

    class Meta:
        db_table = "support_tickets"
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="support_tickets_priority_valid"),
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="support_tickets_status_valid"),
            models.CheckConstraint(condition=Q(category__in=TicketCategory.values), name="support_tickets_category_valid"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="idx_support_tickets_user_id"),
            models.Index(fields=["status", "priority"], name="idx_support_tickets_queue"),
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

    class Meta:
        db_table = "support_messages"
        verbose_name = _("support message")
        verbose_name_plural = _("support messages")
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="idx_support_messages_ticket"),
        ]
