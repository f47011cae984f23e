"""Writes of the accounts domain. Each service is one transaction and records its audit row."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.crypto import token_digest
from core.tenancy import tenant

from .errors import InvitationError
from .models import Account, AuditLog, AuthSession, Invitation, InvitationStatus, User, UserSettings

# --- audit ----------------------------------------------------------------------------------------


def audit_log_record(
    *,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        admin=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )


# --- invitations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # the secret, only ever in the email

    @property
    def path(self) -> str:
        return reverse("accounts:invitation_accept", kwargs={"invitation_id": self.invitation.id, "token": self.token})


@transaction.atomic
def invitation_create(*, invited_by: User, email: str) -> IssuedInvitation:
    email = User.objects.normalize_email(email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        token=token_digest(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    issued = IssuedInvitation(invitation=invitation, token=token)
    audit_log_record(
        actor=invited_by,
        action="invitation.create",
        target_type="invitation",
        target_id=invitation.id,
        details={"email": email, "expires_at": invitation.expires_at.isoformat()},
    )
    transaction.on_commit(lambda: _send_invitation_email(issued, invited_by))
    return issued


def _send_invitation_email(issued: IssuedInvitation, invited_by: User) -> None:
    context = {
        "url": settings.SITE_URL.rstrip("/") + issued.path,
        "invited_by": invited_by.display_name,
        "expires_at": issued.invitation.expires_at,
    }
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("You are invited to cjhirashi-agents"),
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[issued.invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationError(_("Only a pending invitation can be revoked."))
    invitation.status = InvitationStatus.REVOKED
    invitation.save(update_fields=["status"])
    audit_log_record(actor=actor, action="invitation.revoke", target_type="invitation", target_id=invitation.id)
    return invitation


def invitation_check(*, invitation_id: uuid.UUID | str, token: str, lock: bool = False) -> Invitation:
    """The invitation if ``token`` opens it and it is still usable, else InvitationError."""
    queryset = Invitation.objects.select_for_update() if lock else Invitation.objects
    invitation = queryset.filter(pk=invitation_id).first()
    # Constant-time comparison of digests; an unknown id costs the same comparison.
    stored = invitation.token if invitation else token_digest(secrets.token_urlsafe(32))
    if not hmac.compare_digest(stored, token_digest(token or "")) or invitation is None:
        raise InvitationError(_("This invitation link is not valid."))
    if invitation.status == InvitationStatus.ACCEPTED:
        raise InvitationError(_("This invitation has already been used."))
    if invitation.status == InvitationStatus.REVOKED:
        raise InvitationError(_("This invitation was revoked."))
    if invitation.is_expired:
        raise InvitationError(_("This invitation has expired. Ask for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, invitation_id: uuid.UUID | str, token: str, user: User) -> Invitation:
    """Mark the invitation used by ``user``. Locks the row, so a token works exactly once."""
    invitation = invitation_check(invitation_id=invitation_id, token=token, lock=True)
    if invitation.email != user.email:
        raise InvitationError(_("This invitation was sent to another email address."))
    invitation.status = InvitationStatus.ACCEPTED
    invitation.save(update_fields=["status"])
    audit_log_record(
        actor=user,
        action="invitation.accept",
        target_type="invitation",
        target_id=invitation.id,
        details={"email": user.email},
    )
    return invitation


# --- settings -------------------------------------------------------------------------------------


SETTINGS_FIELDS = ("default_model", "temperature", "max_tokens", "rag_enabled", "language", "timezone")


@transaction.atomic
def user_settings_update(*, user: User, **values: Any) -> UserSettings:
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    with tenant(user.id):
        user_settings = UserSettings.objects.select_for_update().get(user=user)
        for name, value in values.items():
            setattr(user_settings, name, value)
        user_settings.save(update_fields=list(values))
    return user_settings


# --- sessions -------------------------------------------------------------------------------------


@transaction.atomic
def session_revoke(*, user: User, session_id: uuid.UUID | str) -> None:
    deleted, _ = AuthSession.objects.filter(pk=session_id, user=user).delete()
    if not deleted:
        raise AuthSession.DoesNotExist
    audit_log_record(actor=user, action="session.revoke", target_type="auth_session", target_id=session_id)


@transaction.atomic
def sessions_revoke_others(*, user: User, current_session_key: str | None) -> int:
    sessions = AuthSession.objects.filter(user=user)
    if current_session_key:
        sessions = sessions.exclude(session_token=token_digest(current_session_key))
    count, _ = sessions.delete()
    audit_log_record(
        actor=user, action="session.revoke_others", target_type="user", target_id=user.id, details={"count": count}
    )
    return count


# --- deletion -------------------------------------------------------------------------------------


@transaction.atomic
def user_soft_delete(*, user: User, actor: User | None = None) -> User:
    """Refuse further logins and sign out everywhere; the data goes at the purge after the grace period."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is None:
        user.deleted_at = timezone.now()
        user.save(update_fields=["deleted_at", "updated_at"])
    AuthSession.objects.filter(user=user).delete()
    audit_log_record(
        actor=actor or user,
        action="user.soft_delete",
        target_type="user",
        target_id=user.id,
        details={"purge_after": (user.deleted_at + timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS)).isoformat()},
    )
    return user


@transaction.atomic
def user_restore(*, user: User, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.deleted_at = None
    user.save(update_fields=["deleted_at", "updated_at"])
    audit_log_record(actor=actor, action="user.restore", target_type="user", target_id=user.id)
    return user


def users_purge_deleted(*, grace_days: int | None = None, dry_run: bool = False) -> list[str]:
    """Delete, with all their data, the users soft-deleted more than ``grace_days`` ago.

    Each user goes in its own transaction so one failure does not hold back the others.
    Returns the ids purged (or that would be, with ``dry_run``).
    """
    days = settings.ACCOUNT_DELETION_GRACE_DAYS if grace_days is None else grace_days
    cutoff = timezone.now() - timedelta(days=days)
    ids = list(User.objects.filter(deleted_at__lt=cutoff).values_list("id", flat=True))
    if dry_run:
        return [str(i) for i in ids]
    purged = []
    for user_id in ids:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=user_id, deleted_at__lt=cutoff).first()
            if user is None:
                continue
            deleted_at = user.deleted_at
            user.delete()
            audit_log_record(
                actor=None,
                action="user.purge",
                target_type="user",
                target_id=user_id,
                details={"deleted_at": deleted_at.isoformat(), "grace_days": days},
            )
        purged.append(str(user_id))
    return purged


# --- linked social accounts -----------------------------------------------------------------------


@transaction.atomic
def account_link_upsert(
    *, user: User, provider: str, provider_account_id: str, access_token: str | None, refresh_token: str | None
) -> Account:
    """Mirror a linked social login into ``accounts``, tokens encrypted."""
    with tenant(user.id):
        account = Account.objects.filter(provider=provider, provider_account_id=provider_account_id, user=user).first()
        if account is None:
            account = Account(user=user, provider=provider, provider_account_id=provider_account_id)
        account.access_token = access_token or None
        if refresh_token:
            account.refresh_token = refresh_token
        account.save()
    return account


@transaction.atomic
def account_link_remove(*, user: User, provider: str, provider_account_id: str) -> None:
    with tenant(user.id):
        Account.objects.filter(user=user, provider=provider, provider_account_id=provider_account_id).delete()


def activate_user_language(user: User) -> str | None:
    """The user's chosen language, if any (read inside their tenant context)."""
    with tenant(user.id):
        language = UserSettings.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        translation.activate(language)
    return language or None
