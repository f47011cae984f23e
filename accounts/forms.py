from __future__ import annotations

import zoneinfo
from functools import lru_cache

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agents import registry

from . import services
from .adapters import pending_invitation
from .errors import InvitationError
from .models import User, UserSettings
from .validators import email_shape_validator


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with a name, the ERD's email shape, and invitations."""

    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    field_order = ["name", "email", "password1", "password2"]

    def clean_email(self):
        email = super().clean_email()
        email_shape_validator(email)
        # An address that already has an account is not refused here: that would tell anyone who
        # has an account. allauth (ACCOUNT_PREVENT_ENUMERATION) sets `account_already_exists`, mails
        # the owner instead, and shows this visitor the same "check your email" page.
        request = context.request
        invitation = pending_invitation(request) if request is not None else None
        if invitation:
            try:
                found = services.invitation_check(invitation_id=invitation["id"], token=invitation["token"])
            except InvitationError as exc:
                raise forms.ValidationError(exc.message, code="invitation")
            if found.email != email:
                raise forms.ValidationError(
                    _("This invitation was sent to %(email)s; sign up with that address."),
                    params={"email": found.email},
                    code="invitation_email",
                )
        elif settings.INVITE_ONLY:
            raise forms.ValidationError(_("Sign-up is by invitation only."), code="invite_only")
        return email


@lru_cache(maxsize=1)
def _time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [(z, z.replace("_", " ")) for z in [*zones, "UTC"]]


class UserSettingsForm(forms.ModelForm):
    default_model = forms.ChoiceField(label=_("Default model"))
    temperature = forms.DecimalField(
        label=_("Temperature"),
        min_value=0,
        max_value=2,
        decimal_places=2,
        help_text=_("0 gives focused answers, 2 very creative ones."),
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    max_tokens = forms.IntegerField(
        label=_("Max tokens per answer"), min_value=1, max_value=200000, help_text=_("The longest answer, in tokens.")
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("Browser default"))] + list(settings.LANGUAGES), required=False
    )
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Medication reminders and appointments follow it."),
        widget=forms.Select(attrs={"data-browser-time-zone": ""}),
    )

    class Meta:
        model = UserSettings
        fields = ["default_model", "temperature", "max_tokens", "rag_enabled", "language", "timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(m.id, m.label) for m in registry.available_models()]
        current = self.instance.default_model if self.instance else None
        if current and current not in {c[0] for c in choices}:
            info = registry.get_model(current)
            choices.append((current, _("%(label)s (unavailable)") % {"label": info.label if info else current}))
        self.fields["default_model"].choices = choices
        self.fields["timezone"].choices = [("", _("Site default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + _time_zone_choices()

    def clean_default_model(self):
        value = self.cleaned_data["default_model"]
        if not registry.is_available(value) and value != self.instance.default_model:
            raise forms.ValidationError(_("This model is not available."))
        return value

    def clean_max_tokens(self):
        value = self.cleaned_data["max_tokens"]
        info = registry.get_model(self.cleaned_data.get("default_model") or self.instance.default_model)
        if info and value > info.max_output_tokens:
            raise forms.ValidationError(
                _("This model answers with at most %(limit)s tokens."), params={"limit": info.max_output_tokens}
            )
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email to invite"), validators=[email_shape_validator])

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("This person already has an account."))
        return email


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(label=_("I understand my account and all its data will be deleted."))

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password
