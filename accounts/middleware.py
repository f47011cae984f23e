"""Admin guards: staff reach the admin only with a second factor (when required), and nothing a
visitor types into an admin URL reaches the database with control characters in it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from core.text import has_control_chars, strip_control_chars


def _admin_prefix() -> str:
    return reverse("admin:index")


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def _cleaned_query(request) -> str | None:
    """The query string without control characters, or None when it had none.

    PostgreSQL refuses NUL in text, so ``?q=%00`` or a NUL in a filter would otherwise end in an
    error page of the server's making; the admin then answers the cleaned URL instead.
    """
    pairs = [(key, value) for key, values in request.GET.lists() for value in values]
    if not any(has_control_chars(key) or has_control_chars(value) for key, value in pairs):
        return None
    return urlencode([(strip_control_chars(k), strip_control_chars(v)) for k, v in pairs if strip_control_chars(k)])


class AdminGuardMiddleware:
    """For paths under the admin: control characters in the path are a 404, in the query string
    they are dropped (redirect), and with ``STAFF_REQUIRE_MFA`` a staff member without TOTP is sent
    to set it up before any admin page. Runs after authentication and messages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_admin_prefix()):
            return self.get_response(request)
        if has_control_chars(request.path):
            raise Http404
        cleaned = _cleaned_query(request)
        if cleaned is not None:
            return HttpResponseRedirect(f"{request.path}?{cleaned}" if cleaned else request.path)
        user = getattr(request, "user", None)
        if (
            getattr(settings, "STAFF_REQUIRE_MFA", False)
            and user is not None and user.is_authenticated and user.is_staff
            and not has_totp(user)
        ):
            messages.warning(
                request,
                _("Staff accounts need two-factor authentication. Set up an authenticator app, then open the admin again."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
