"""Reads of the accounts domain, always scoped to the person asking."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import AuditLog, AuthSession, Invitation, User, UserSettings
from .sessions import token_digest


def user_settings_get(*, user: User) -> UserSettings:
    return get_object_or_404(UserSettings, user=user)


def sessions_for_user(*, user: User) -> QuerySet[AuthSession]:
    return (
        AuthSession.objects.filter(user=user, expires__gt=timezone.now())
        .only("id", "session_token", "ip_address", "user_agent", "created_at", "last_activity", "expires")
        .order_by("-last_activity")
    )


def current_session_token(request) -> str | None:
    key = getattr(request.session, "session_key", None)
    return token_digest(key) if key else None


def invitations_list(*, limit: int = 200) -> QuerySet[Invitation]:
    return Invitation.objects.select_related("invited_by").order_by("-created_at")[:limit]


def invitation_get(*, invitation_id) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id)


def audit_for_user(*, user: User, limit: int = 50) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(target_id=user.id).order_by("-timestamp")[:limit]
