"""Email-verification links recorded in the ERD's ``verification_tokens``.

allauth signs its verification keys (HMAC), which alone would stay usable until they expire. Each
key sent is also recorded here (as a SHA-256 digest, identified by the email address) and deleted
when used, so a link works once and expires server-side.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.crypto import token_digest

from .models import VerificationToken


def verification_record(*, email: str, key: str) -> VerificationToken:
    days = getattr(settings, "ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS", 3)
    token, _ = VerificationToken.objects.update_or_create(
        token=token_digest(key),
        defaults={"identifier": email.lower(), "expires": timezone.now() + timedelta(days=days)},
    )
    return token


def verification_is_open(*, key: str) -> bool:
    return VerificationToken.objects.filter(token=token_digest(key), expires__gt=timezone.now()).exists()


def verification_consume(*, key: str) -> bool:
    deleted, _ = VerificationToken.objects.filter(token=token_digest(key)).delete()
    return bool(deleted)


def verifications_clear_expired() -> int:
    deleted, _ = VerificationToken.objects.filter(expires__lte=timezone.now()).delete()
    return deleted
