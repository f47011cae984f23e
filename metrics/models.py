"""Usage logs, monthly rollups and limit alerts (ERD domain 10). Rollups are kept by a trigger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel


def cost(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=6, default=0, db_default=0, **kwargs)


class UsageLog(UUIDModel):
    """One assistant turn, successful or not. Inserting it updates users, agents and monthly_usage."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="usage_logs", db_index=False)
    agent = fields.ForeignKey("agents.Agent", db_on_delete="CASCADE", related_name="usage_logs")
    conversation = fields.ForeignKey("chats.Conversation", db_on_delete="SET NULL", null=True, blank=True, related_name="usage_logs")
    tokens_input = models.IntegerField(default=0, db_default=0)
    tokens_output = models.IntegerField(default=0, db_default=0)
    total_tokens = models.IntegerField(default=0, db_default=0)
    model = models.CharField(_("model"), max_length=100)
    cost_input = cost(_("input cost"))
    cost_output = cost(_("output cost"))
    total_cost = cost(_("total cost"))
    duration = models.IntegerField(_("duration (ms)"), default=0, db_default=0)
    success = models.BooleanField(_("success"), default=True, db_default=True)
    timestamp = models.DateTimeField(_("time"), default=timezone.now, db_default=Now())

    class Meta:
        db_table = "usage_logs"
        verbose_name = _("usage log")
        verbose_name_plural = _("usage logs")
        constraints = [
            models.CheckConstraint(
                condition=Q(tokens_input__gte=0) & Q(tokens_output__gte=0) & Q(total_tokens__gte=0) & Q(duration__gte=0),
                name="usage_logs_non_negative",
            ),
            models.CheckConstraint(condition=Q(total_tokens=models.F("tokens_input") + models.F("tokens_output")), name="usage_logs_total_tokens_sum"),
        ]
        indexes = [
            models.Index(fields=["user", "-timestamp"], name="idx_usage_logs_user_time"),
        ]


class MonthlyUsage(UUIDModel, CreatedAtModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="monthly_usage", db_index=False)
    year = models.IntegerField(_("year"))
    month = models.IntegerField(_("month"))
    total_messages = models.IntegerField(_("messages"), default=0, db_default=0)
    total_tokens = models.BigIntegerField(_("tokens"), default=0, db_default=0)
    total_cost = cost(_("cost"))
    agent_usage = models.JSONField(default=dict, db_default=models.Value({}, models.JSONField()), blank=True)
    limit_messages = models.IntegerField(_("message limit"), null=True, blank=True)
    limit_tokens = models.BigIntegerField(_("token limit"), null=True, blank=True)
    exceeded_limit = models.BooleanField(_("limit exceeded"), default=False, db_default=False)

    class Meta:
        db_table = "monthly_usage"
        verbose_name = _("monthly usage")
        verbose_name_plural = _("monthly usage")
        constraints = [
            models.UniqueConstraint(fields=["user", "year", "month"], name="monthly_usage_user_month_unique"),
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="monthly_usage_month_range"),
            models.CheckConstraint(condition=Q(total_messages__gte=0) & Q(total_tokens__gte=0), name="monthly_usage_non_negative"),
        ]


class AlertType(models.TextChoices):
    MESSAGES = "MESSAGES", _("Messages")
    TOKENS = "TOKENS", _("Tokens")


# What a monthly limit counts (``LimitExceeded.kind``, the banner's ``kind``), and each alert type's.
KIND_MESSAGES = "messages"
KIND_TOKENS = "tokens"
ALERT_TYPE_TO_KIND = {AlertType.MESSAGES: KIND_MESSAGES, AlertType.TOKENS: KIND_TOKENS}


class UsageAlert(UUIDModel, CreatedAtModel):
    """A limit threshold reached. ``year``/``month`` are beyond the ERD: one alert per threshold
    per month, enforced by a unique constraint."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="usage_alerts", db_index=False)
    type = models.CharField(_("type"), max_length=10, choices=AlertType.choices)
    threshold = models.IntegerField(_("threshold (%)"))
    triggered = models.BooleanField(_("triggered"), default=True, db_default=True)
    year = models.IntegerField(_("year"))
    month = models.IntegerField(_("month"))

    class Meta:
        db_table = "usage_alerts"
        verbose_name = _("usage alert")
        verbose_name_plural = _("usage alerts")
        constraints = [
            models.UniqueConstraint(fields=["user", "type", "threshold", "year", "month"], name="usage_alerts_once_per_month"),
            models.CheckConstraint(condition=Q(threshold__in=[80, 90, 100]), name="usage_alerts_threshold_valid"),
            models.CheckConstraint(condition=Q(type__in=AlertType.values), name="usage_alerts_type_valid"),
        ]
        indexes = [models.Index(fields=["user", "year", "month"], name="idx_usage_alerts_user_month")]
