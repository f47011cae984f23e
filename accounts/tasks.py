"""Periodic housekeeping of the accounts domain (scheduled by Celery beat, see settings)."""

from celery import shared_task
from django.utils import timezone

from .models import AuthSession
from .services import users_purge_deleted
from .verification import verifications_clear_expired


@shared_task(name="accounts.clear_expired")
def clear_expired_sessions_and_tokens() -> tuple[int, int]:
    sessions, _ = AuthSession.objects.filter(expires__lt=timezone.now()).delete()
    return sessions, verifications_clear_expired()


@shared_task(name="accounts.purge_deleted")
def purge_deleted_accounts() -> int:
    return len(users_purge_deleted())
