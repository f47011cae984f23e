"""Admin guards: staff reach the admin only with a second factor (when required), and nothing a
visitor types into an admin URL reaches the database with control characters in it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
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


def _post_is_sound(request) -> bool:
    """No NUL in any posted value, and an action's selected ids are ids of the changelist's model
    (the admin filters ``pk__in`` with them as they come, and a malformed UUID would end in a 500)."""
    if any("\x00" in value for _key, values in request.POST.lists() for value in values):
        return False
    selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
    if not selected:
        return True
    try:
        model_admin = getattr(resolve(request.path_info).func, "model_admin", None)
    except Resolver404:
        return True
    if model_admin is None:
        return True
    pk = model_admin.model._meta.pk
    try:
        for value in selected:
            pk.to_python(value)
    except ValidationError:
        return False
    return True


class AdminGuardMiddleware:
    """For paths under the admin: control characters in the path are a 404, in the query string
    they are dropped (redirect), a posted NUL or malformed selection is a 400, and with ``STAFF_REQUIRE_MFA`` a staff member without TOTP is sent
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
        if request.method == "POST" and not _post_is_sound(request):
            raise BadRequest("malformed admin form")
        user = getattr(request, "user", None)
        if (
            getattr(settings, "STAFF_REQUIRE_MFA", False)
            and user is not None and user.is_authenticated and user.is_staff
            and request.path != reverse("admin:logout")
            and not has_totp(user)
        ):
            messages.warning(
                request,
                _("Staff accounts need two-factor authentication. Set up an authenticator app, then open the admin again."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
