"""allauth adapters: invitations, verification links, social tokens and MFA secrets."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmationHMAC
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core import crypto
from core.cache import redis_available

from . import services
from .errors import InvitationError
from .verification import verification_record

INVITATION_SESSION_KEY = "accounts.invitation"


def pending_invitation(request: HttpRequest) -> dict | None:
    """The invitation a visitor opened (id and token), kept in their session until sign-up."""
    data = request.session.get(INVITATION_SESSION_KEY) if hasattr(request, "session") else None
    return data if isinstance(data, dict) and data.get("id") and data.get("token") else None


def invitation_is_usable(request: HttpRequest) -> bool:
    """Whether the visitor holds a usable invitation; if it went stale, tell them why (once)."""
    data = pending_invitation(request)
    if not data:
        return False
    try:
        services.invitation_check(invitation_id=data["id"], token=data["token"])
    except InvitationError as exc:
        if not getattr(request, "_invitation_reported", False):
            messages.error(request, exc.message)
            request._invitation_reported = True
        return False
    return True


class _SignedOnce(EmailConfirmationHMAC):
    """An HMAC confirmation whose key is signed once.

    allauth's `EmailConfirmationHMAC.key` signs again on every read, with the current second in it.
    The key we record and the key in the e-mailed link are read a few milliseconds apart, so a
    second boundary between them made the link unusable for about one sign-up in a few hundred.
    """

    def __init__(self, email_address, key: str) -> None:
        super().__init__(email_address)
        self._key = key

    @property
    def key(self) -> str:
        return self._key


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if settings.INVITE_ONLY:
            return invitation_is_usable(request)
        return True

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.name = form.cleaned_data.get("name", "") or ""
        if commit:
            user.save()
            invitation = pending_invitation(request)
            if invitation:
                services.invitation_accept(invitation_id=invitation["id"], token=invitation["token"], user=user)
                request.session.pop(INVITATION_SESSION_KEY, None)
        return user

    def send_confirmation_mail(self, request, emailconfirmation, signup):
        if isinstance(emailconfirmation, EmailConfirmationHMAC):
            emailconfirmation = _SignedOnce(emailconfirmation.email_address, emailconfirmation.key)
        verification_record(email=emailconfirmation.email_address.email, key=emailconfirmation.key)
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def get_client_ip(self, request: HttpRequest) -> str:
        # The project's one reader of the client address (TRUSTED_PROXY_COUNT), so allauth's rate
        # limits key on the visitor behind a proxy, not on the proxy.
        from django.core.exceptions import PermissionDenied

        from .sessions import client_ip

        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def pre_authenticate(self, request, **credentials):
        # Login throttling fails closed: without Redis the failed attempts cannot be counted, so
        # nobody may guess passwords meanwhile (the cache itself fails open: core/cache.py).
        if not redis_available():
            from django import forms

            raise forms.ValidationError(_("Signing in is paused for a moment while a service restarts. Please try again in a minute."))
        super().pre_authenticate(request, **credentials)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        language = services.activate_user_language(user)
        if language and response is not None:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        if settings.INVITE_ONLY:
            return invitation_is_usable(request)
        return True

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        mirror_social_tokens(sociallogin)
        invitation = pending_invitation(request)
        if invitation:
            services.invitation_accept(invitation_id=invitation["id"], token=invitation["token"], user=user)
            request.session.pop(INVITATION_SESSION_KEY, None)
        return user


def mirror_social_tokens(sociallogin) -> None:
    """Copy a social login's tokens, encrypted, into ``accounts`` (allauth stores none itself)."""
    user = sociallogin.user
    if user is None or user.pk is None:
        return
    token = sociallogin.token
    services.account_link_upsert(
        user=user,
        provider=sociallogin.account.provider,
        provider_account_id=str(sociallogin.account.uid),
        access_token=getattr(token, "token", None) or None,
        refresh_token=getattr(token, "token_secret", None) or None,
    )


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets encrypted with the field key ring (no row id: allauth encrypts before saving)."""

    _AAD = crypto.associated_data("mfa_authenticator", "data", "secret")

    def encrypt(self, text: str) -> str:
        return crypto.encrypt_text(text, self._AAD)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt_text(encrypted_text, self._AAD)
