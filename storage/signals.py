"""The quota row follows the user's subscription tier: on sign-up and whenever the tier is saved."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or update_fields is None or "subscription_tier" in update_fields:
        from .services import quota_sync

        quota_sync(instance)


def connect() -> None:
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="storage.quota_follows_tier")
