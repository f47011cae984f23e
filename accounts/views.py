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
from .decorators import admin_required
from .errors import InvitationError
from .forms import DeleteAccountForm, InvitationForm, UserSettingsForm
from .models import AuthSession
from .useragent import describe, is_mobile
from .verification import verification_consume, verification_is_open


@login_required
def user_settings_edit(request):
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
def session_list(request):
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
def session_revoke(request, session_id):
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
def session_revoke_others(request):
    count = services.sessions_revoke_others(user=request.user, current_session_key=request.session.session_key)
    messages.success(request, _("Signed out of %(count)s other session(s).") % {"count": count})
    return redirect("accounts:sessions")


@login_required
def account_delete(request):
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
@admin_required
def invitation_list(request):
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
@admin_required
def invitation_revoke(request, invitation_id):
    invitation = selectors.invitation_get(invitation_id=invitation_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except InvitationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The invitation was revoked."))
    return redirect("accounts:invitations")


def invitation_accept(request, invitation_id, token):
    if request.user.is_authenticated:
        messages.info(request, _("You are already signed in."))
        return redirect("home")
    try:
        invitation = services.invitation_check(invitation_id=invitation_id, token=token)
    except InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": exc.message}, status=410)
    request.session[INVITATION_SESSION_KEY] = {"id": str(invitation.id), "token": token}
    # The link reached this inbox, which proves the address: no second verification email.
    get_adapter(request).stash_verified_email(request, invitation.email)
    return HttpResponseRedirect(reverse("account_signup"))


@require_POST
def language_set(request):
    """Django's language switch, remembered in the user's settings when signed in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in {"en", "es"}:
        services.user_settings_update(user=request.user, language=language)
    return response


class ConfirmEmailView(AllauthConfirmEmailView):
    """allauth's confirmation, accepting each e-mailed link once and only while its token row lives.

    The page's form posts back to the URL that was opened (see the template): allauth would render
    a freshly signed key, which was never recorded and so would be refused.
    """

    def get_object(self, queryset=None):
        confirmation = super().get_object(queryset)
        if not getattr(self, "_spent_by_this_request", False) and not verification_is_open(key=self.kwargs["key"]):
            raise Http404
        return confirmation

    def post(self, *args, **kwargs):
        self.get_object()  # 404 for a spent, expired or forged link, before anything changes
        # Spend the link first, atomically: of two concurrent posts only one goes on.
        if not verification_consume(key=self.kwargs["key"]):
            raise Http404
        self._spent_by_this_request = True
        response = super().post(*args, **kwargs)
        if response.status_code in (301, 302, 303) and not self.request.user.is_authenticated:
            # Confirmed from another browser (or a mail app's): there is no sign-up to resume here.
            messages.info(self.request, _("Your email address is confirmed. Sign in with your password to continue."))
        return response


email_confirm = ConfirmEmailView.as_view()


def _pending_verification(request):
    """The sign-up or sign-in waiting in this browser for its email address to be confirmed."""
    from allauth.account.stages import EmailVerificationStage, LoginStageController

    return LoginStageController.enter(request, EmailVerificationStage.key)


def _pending_email(stage) -> str:
    if stage.login.email:
        return stage.login.email
    user = stage.login.user
    return user.email if user is not None else ""


def verification_sent(request):
    """Where sign-up lands: which address to check, what to do next, and a resend button."""
    stage = _pending_verification(request)
    return render(
        request,
        "account/verification_sent.html",
        {"pending_email": _pending_email(stage) if stage else "", "can_resend": stage is not None},
    )


@require_POST
def verification_resend(request):
    """Send the confirmation link again, at most once per cooldown per address and a few per hour per IP.

    It acts only on the sign-up pending in this browser's session, so it cannot be aimed at
    somebody else's address; with enumeration prevention, an address that already had an account
    gets allauth's "account already exists" mail, exactly as at sign-up.
    """
    from allauth.account.internal.flows.email_verification import (
        consume_email_verification_rate_limit,
        send_verification_email_at_login,
    )
    from allauth.core import ratelimit

    stage = _pending_verification(request)
    email = _pending_email(stage) if stage else ""
    if not email:
        messages.info(request, _("Sign in with your email address and password; if it still needs confirming, we send a new link."))
        return redirect("account_login")
    if not consume_email_verification_rate_limit(request, email, dry_run=True) or not ratelimit.consume(
        request, action="resend_verification"
    ):
        messages.warning(request, _("We sent a link a moment ago. Wait a few minutes before asking for another one."))
        return redirect("account_email_verification_sent")
    if not send_verification_email_at_login(request, stage.login):
        messages.info(request, _("This address needs no confirming any more: sign in."))
        return redirect("account_login")
    return redirect("account_email_verification_sent")
