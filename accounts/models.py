"""Users, linked accounts, sessions, invitations, settings and the audit log (ERD domain 1)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.crypto import EncryptedTextField
from core.models import CreatedAtModel, UUIDModel

from . import roles
from .validators import EMAIL_PATTERN as EMAIL_REGEX
from .validators import email_shape_validator


class Role(models.TextChoices):
    SUPER_ADMIN = "SUPER_ADMIN", _("Super administrator")
    ADMIN = "ADMIN", _("Administrator")
    SUPPORT = "SUPPORT", _("Support")
    USER = "USER", _("User")


class SubscriptionTier(models.TextChoices):
    FREE = "FREE", _("Free")
    PRO = "PRO", _("Pro")
    ENTERPRISE = "ENTERPRISE", _("Enterprise")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def normalize_email(self, email):  # the whole address, not only the domain
        return (email or "").strip().lower()

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.SUPER_ADMIN)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))


class User(UUIDModel, AbstractBaseUser):
    """The ERD's ``users``. Staff rights follow ``role``; ``deleted_at`` is the soft delete."""

    email = models.CharField(_("email"), max_length=254, unique=True, validators=[email_shape_validator])
    name = models.CharField(_("name"), max_length=150, blank=True, default="", db_default="")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.USER, db_default=Role.USER)
    subscription_tier = models.CharField(
        _("subscription tier"),
        max_length=20,
        choices=SubscriptionTier.choices,
        default=SubscriptionTier.FREE,
        db_default=SubscriptionTier.FREE,
    )
    total_messages = models.IntegerField(_("total messages"), default=0, db_default=0, editable=False)
    total_tokens_used = models.BigIntegerField(_("total tokens used"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=Q(email__iregex=EMAIL_REGEX), name="users_email_valid"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="users_email_lowercase"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="users_role_valid"),
            models.CheckConstraint(
                condition=Q(subscription_tier__in=SubscriptionTier.values), name="users_subscription_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(total_messages__gte=0) & Q(total_tokens_used__gte=0), name="users_counters_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["subscription_tier"], name="idx_users_subscription_tier")]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    # --- what Django and allauth ask of a user -------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role in roles.STAFF_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.role == Role.SUPER_ADMIN

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role in roles.ADMIN_ROLES

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_active and roles.allows(self.role, perm)

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and roles.allows_module(self.role, app_label)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]

    @property
    def display_name(self) -> str:
        return self.get_full_name()


class Account(UUIDModel, CreatedAtModel):
    """A linked social login (Google, GitHub) with its OAuth tokens encrypted at rest."""

    user = fields.ForeignKey(User, db_on_delete="CASCADE", related_name="linked_accounts")
    provider = models.CharField(_("provider"), max_length=50)
    provider_account_id = models.CharField(_("provider account id"), max_length=255)
    access_token = EncryptedTextField(_("access token"), null=True, blank=True)
    refresh_token = EncryptedTextField(_("refresh token"), null=True, blank=True)

    class Meta:
        db_table = "accounts"
        verbose_name = _("linked account")
        verbose_name_plural = _("linked accounts")
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_account_id"], name="accounts_provider_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_account_id}"


class AuthSession(UUIDModel, CreatedAtModel):
    """A browser session. ``session_token`` holds the SHA-256 of the cookie value, never the value.

    Beyond the ERD: ``session_data`` (the session store needs it), ``user_agent`` and
    ``last_activity`` (the Sessions page shows devices). Anonymous sessions have no user.
    """

    user = fields.ForeignKey(User, db_on_delete="CASCADE", null=True, blank=True, related_name="auth_sessions")
    session_token = models.CharField(max_length=64, unique=True)
    expires = models.DateTimeField(db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    session_data = models.TextField(default="", db_default="")
    user_agent = models.CharField(max_length=300, default="", db_default="", blank=True)
    last_activity = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "auth_sessions"
        verbose_name = _("session")
        verbose_name_plural = _("sessions")


class VerificationToken(models.Model):
    """Outstanding email-verification links: single use, expiring. ``token`` is a SHA-256 digest."""

    pk = models.CompositePrimaryKey("identifier", "token")
    identifier = models.CharField(max_length=254)
    token = models.CharField(max_length=64, unique=True)
    expires = models.DateTimeField()

    class Meta:
        db_table = "verification_tokens"


class InvitationStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    ACCEPTED = "ACCEPTED", _("Accepted")
    REVOKED = "REVOKED", _("Revoked")


class Invitation(UUIDModel, CreatedAtModel):
    """An invitation to sign up. ``token`` holds the SHA-256 of the secret sent by email."""

    email = models.CharField(_("email"), max_length=254)
    token = models.CharField(max_length=64, unique=True)
    invited_by = fields.ForeignKey(
        User, db_on_delete="SET NULL", null=True, blank=True, related_name="invitations_sent", db_column="invited_by"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
        db_default=InvitationStatus.PENDING,
    )
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        db_table = "invitations"
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitations_status_valid"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="invitations_email_lowercase"),
        ]
        indexes = [models.Index(fields=["email"], name="idx_invitations_email")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def display_status(self) -> str:
        if self.status == InvitationStatus.PENDING and self.is_expired:
            return str(_("Expired"))
        return self.get_status_display()


class UserSettings(UUIDModel, CreatedAtModel):
    """Per-user preferences; one row per user, created by a trigger on ``users``.

    ``language`` and ``timezone`` are beyond the ERD: the settings page lets people choose them.
    """

    user = fields.OneToOneField(User, db_on_delete="CASCADE", related_name="settings")
    default_model = models.CharField(_("default model"), max_length=100, default="offline", db_default="offline")
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=2, default=0.7, db_default=0.7)
    max_tokens = models.IntegerField(_("max tokens"), default=1024, db_default=1024)
    rag_enabled = models.BooleanField(_("use my documents (RAG)"), default=True, db_default=True)
    language = models.CharField(_("language"), max_length=8, default="", db_default="", blank=True)
    # Beyond the ERD (issue 15): an IANA zone such as "Europe/Madrid"; "" means the site's TIME_ZONE.
    timezone = models.CharField(_("time zone"), max_length=64, default="", db_default="", blank=True)

    class Meta:
        db_table = "user_settings"
        verbose_name = _("user settings")
        verbose_name_plural = _("user settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature__gte=0) & Q(temperature__lte=2), name="user_settings_temperature_range"
            ),
            models.CheckConstraint(
                condition=Q(max_tokens__gte=1) & Q(max_tokens__lte=200000), name="user_settings_max_tokens_range"
            ),
            models.CheckConstraint(condition=Q(language__in=["", "en", "es"]), name="user_settings_language_valid"),
        ]

    def __str__(self) -> str:
        return f"settings of {self.user_id}"


class AuditLog(UUIDModel):
    """Append-only record of sensitive actions. ``admin_id`` is the actor (NULL: the system)."""

    admin = fields.ForeignKey(
        User, db_on_delete="SET NULL", null=True, blank=True, related_name="audit_actions", db_column="admin_id"
    )
    action = models.CharField(_("action"), max_length=100)
    target_id = models.UUIDField(_("target id"), null=True, blank=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True, default="", db_default="")
    details = models.JSONField(_("details"), default=dict, db_default=models.Value({}, models.JSONField()), blank=True)
    timestamp = models.DateTimeField(_("time"), default=timezone.now, db_default=Now(), db_index=True)

    class Meta:
        db_table = "audit_logs"
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-timestamp"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="idx_audit_logs_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} @ {self.timestamp:%Y-%m-%d %H:%M}"
