from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.views import ConfirmEmailView as AllauthConfirmEmailView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from . import selectors, services
from .adapters import INVITATION_SESSION_KEY
from .forms import DeleteAccountForm, InvitationForm, UserSettingsForm
from .models import AuthSession
from .useragent import describe, is_mobile
from .verification import verification_consume, verification_is_open


def _admin_only(request):
    if not request.user.is_authenticated or not request.user.is_admin:
        raise Http404


@login_required
def home_view(request):
    """The start page: where to go next, what was going on, and this month's usage."""
    from agents.selectors import agents_for_user
    from chats.selectors import conversations_for_user

    return render(
        request,
        "accounts/home.html",
        {
            "recent_conversations": list(conversations_for_user(user=request.user)[:5]),
            "agents": list(agents_for_user(request.user)[:4]),
        },
    )


@login_required
def settings_view(request):
    user_settings = selectors.user_settings_get(user=request.user)
    form = UserSettingsForm(request.POST if request.method == "POST" else None, instance=user_settings)
    if request.method == "POST" and form.is_valid():
        services.user_settings_update(user=request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        response = redirect("accounts:settings")
        language = form.cleaned_data["language"]
        if language:
            translation.activate(language)
            response.set_cookie("django_language", language, samesite="Lax")
        else:
            response.delete_cookie("django_language")
        messages.success(request, _("Your settings were saved."))
        return response
    return render(request, "accounts/settings.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def sessions_view(request):
    current = selectors.current_session_token(request)
    sessions = [
        {
            "id": s.id,
            "device": describe(s.user_agent),
            "mobile": is_mobile(s.user_agent),
            "ip_address": s.ip_address,
            "created_at": s.created_at,
            "last_activity": s.last_activity,
            "current": s.session_token == current,
        }
        for s in selectors.sessions_for_user(user=request.user)
    ]
    return render(request, "accounts/sessions.html", {"sessions": sessions})


@login_required
@require_POST
def session_revoke_view(request, session_id):
    current = selectors.current_session_token(request)
    session = AuthSession.objects.filter(pk=session_id, user=request.user).only("session_token").first()
    if session is None:
        raise Http404
    services.session_revoke(user=request.user, session_id=session_id)
    if session.session_token == current:
        logout(request)
        messages.info(request, _("You signed out of this browser."))
        return redirect("account_login")
    messages.success(request, _("That session was signed out."))
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_revoke_others_view(request):
    count = services.sessions_revoke_others(user=request.user, current_session_key=request.session.session_key)
    messages.success(request, _("Signed out of %(count)s other session(s).") % {"count": count})
    return redirect("accounts:sessions")


@login_required
def delete_account_view(request):
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_soft_delete(user=request.user)
        logout(request)
        messages.info(
            request,
            _("Your account was deleted. Its data will be erased for good after the grace period."),
        )
        return redirect("account_login")
    return render(
        request,
        "accounts/delete.html",
        {"form": form, "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS},
        status=400 if form.errors else 200,
    )


@login_required
def invitations_view(request):
    _admin_only(request)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        issued = services.invitation_create(invited_by=request.user, email=form.cleaned_data["email"])
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": issued.invitation.email})
        return redirect("accounts:invitations")
    return render(
        request,
        "accounts/invitations.html",
        {"form": form, "invitations": selectors.invitations_list()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def invitation_revoke_view(request, invitation_id):
    _admin_only(request)
    invitation = selectors.invitation_get(invitation_id=invitation_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except services.InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The invitation was revoked."))
    return redirect("accounts:invitations")


def invitation_accept_view(request, invitation_id, token):
    if request.user.is_authenticated:
        messages.info(request, _("You are already signed in."))
        return redirect("home")
    try:
        invitation = services.invitation_check(invitation_id=invitation_id, token=token)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    request.session[INVITATION_SESSION_KEY] = {"id": str(invitation.id), "token": token}
    # The link reached this inbox, which proves the address: no second verification email.
    get_adapter(request).stash_verified_email(request, invitation.email)
    return HttpResponseRedirect(reverse("account_signup"))


@require_POST
def set_language_view(request):
    """Django's language switch, remembered in the user's settings when signed in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in {"en", "es"}:
        services.user_settings_update(user=request.user, language=language)
    return response


class ConfirmEmailView(AllauthConfirmEmailView):
    """allauth's confirmation, accepting each link once and only while its token row lives."""

    def get_object(self, queryset=None):
        confirmation = super().get_object(queryset)
        if not verification_is_open(key=self.kwargs["key"]):
            raise Http404
        return confirmation

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code in (301, 302, 303):  # verified: the link is spent
            verification_consume(key=self.kwargs["key"])
        return response


confirm_email_view = ConfirmEmailView.as_view()
