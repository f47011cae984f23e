"""Agents and who may use them (ERD domain 2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel

from .seeded_texts import shown


class Category(models.TextChoices):
    GENERAL = "GENERAL", _("General")
    CODE = "CODE", _("Code")
    WRITING = "WRITING", _("Writing")
    RESEARCH = "RESEARCH", _("Research")
    FINANCE = "FINANCE", _("Finance")
    HEALTH = "HEALTH", _("Health")
    PRODUCTIVITY = "PRODUCTIVITY", _("Productivity")
    OTHER = "OTHER", _("Other")


class Agent(UUIDModel, CreatedAtModel):
    """An AI agent: a model, a system prompt and settings. ``config`` holds temperature and
    max_tokens. ``description`` is beyond the ERD: the catalog shows it."""

    created_by = fields.ForeignKey(
        settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="agents_created", db_column="created_by"
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True, default="", db_default="")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.GENERAL, db_default=Category.GENERAL)
    model = models.CharField(_("model"), max_length=100)
    system_prompt = models.TextField(_("system prompt"), blank=True, default="", db_default="")
    config = models.JSONField(_("configuration"), default=dict, db_default=models.Value({}, models.JSONField()), blank=True)
    is_public = models.BooleanField(_("public"), default=False, db_default=False)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    total_uses = models.IntegerField(_("total uses"), default=0, db_default=0, editable=False)

    class Meta:
        db_table = "agents"
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=Category.values), name="agents_category_valid"),
            models.CheckConstraint(condition=Q(total_uses__gte=0), name="agents_total_uses_non_negative"),
            models.CheckConstraint(condition=~Q(slug=""), name="agents_slug_not_empty"),
        ]
        indexes = [
            models.Index(fields=["is_public", "is_active"], name="idx_agents_public_active"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language for a seeded demo agent left as seeded; else as stored."""
        return shown(self.slug, "name", self.name)

    @property
    def display_description(self) -> str:
        return shown(self.slug, "description", self.description)

    @property
    def temperature(self) -> float:
        return float(self.config.get("temperature", 0.7))

    @property
    def max_tokens(self) -> int:
        return int(self.config.get("max_tokens", 1024))


class UserAgentPermission(UUIDModel):
    """A grant: this user may use this (private) agent."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="agent_permissions", db_index=False)
    agent = fields.ForeignKey(Agent, db_on_delete="CASCADE", related_name="permissions")
    granted_by = fields.ForeignKey(
        settings.AUTH_USER_MODEL, db_on_delete="SET NULL", null=True, blank=True, related_name="agent_grants_given",
        db_column="granted_by",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True, db_default=Now())

    class Meta:
        db_table = "user_agent_permissions"
        verbose_name = _("agent permission")
        verbose_name_plural = _("agent permissions")
        constraints = [models.UniqueConstraint(fields=["user", "agent"], name="user_agent_permissions_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.agent_id}"
