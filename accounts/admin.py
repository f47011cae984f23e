"""Admin for the accounts domain. Staff reach tenant rows only through the middleware's audited
bypass; encrypted values are never shown, and counters are read-only.

The admin has no login of its own: ``/admin/login/`` sends visitors to the account login, so staff
pass the same password, failed-login limit and second factor as everyone.

Identity (e-mail, password, allauth's e-mail addresses, social accounts, authenticators) is changed
here only by a SUPER_ADMIN, on users of a lower role (``roles.may_edit_identity``), and a new e-mail
address goes through allauth's verification: it is added unverified and a link is sent to it.
Every action states the permission it needs (``allowed_permissions``).
"""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import MaskedEncryptedFieldsMixin, ReadOnlyAdmin

from . import roles, services
from .errors import InvitationError
from .models import Account, AuditLog, AuthSession, Invitation, User, UserSettings

admin.site.login = secure_admin_login(admin.site.login)

# Not ours to edit here: groups carry no rights (rights follow the role), social apps come from the
# settings, and allauth stores no social tokens (they are mirrored, encrypted, into `accounts`).
for _model in (Group, SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
for _model in (EmailAddress, SocialAccount, Authenticator):  # re-registered below, identity-safe
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _email_taken(email: str, *, by_other_than: User | None) -> bool:
    users = User.objects.filter(email__iexact=email)
    addresses = EmailAddress.objects.filter(email__iexact=email)
    if by_other_than is not None:
        users = users.exclude(pk=by_other_than.pk)
        addresses = addresses.exclude(user_id=by_other_than.pk)
    return users.exists() or addresses.exists()


def request_email_change(request, *, actor: User, user: User, email: str) -> EmailAddress:
    """Add ``email`` to ``user`` unverified and send it allauth's verification link; audited.

    The user's sign-in address and password-reset target do not change until the owner of the new
    address confirms it and makes it primary.
    """
    address = EmailAddress.objects.add_email(request, user, email, confirm=True)
    services.audit_log_record(
        actor=actor, action="user.email_change_requested", target_type="user", target_id=user.pk,
        details={"email": email},
    )
    return address


class UserCreationForm(forms.ModelForm):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email", "name", "role", "subscription_tier"]

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])

    def _post_clean(self):
        super()._post_clean()
        password = self.cleaned_data.get("password")
        if password:
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(password, self.instance)
            except forms.ValidationError as error:
                self.add_error("password", error)

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "name", "role", "subscription_tier"]

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email.lower() != (self.instance.email or "").lower() and _email_taken(email, by_other_than=self.instance):
            raise forms.ValidationError(_("Another account already uses this address."))
        return email


class UserSettingsInline(admin.StackedInline):
    model = UserSettings
    can_delete = False
    extra = 0
    fields = ["default_model", "temperature", "max_tokens", "rag_enabled", "language"]

    def has_change_permission(self, request, obj=None):  # obj: the user being edited
        return super().has_change_permission(request, obj) and (obj is None or roles.may_manage(request.user, obj))


class LinkedAccountInline(MaskedEncryptedFieldsMixin, admin.TabularInline):
    model = Account
    extra = 0
    can_delete = True
    fields = ["provider", "provider_account_id", "encrypted_values", "created_at"]
    readonly_fields = ["provider", "provider_account_id", "encrypted_values", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):  # obj: the user being edited
        return super().has_delete_permission(request, obj) and obj is not None and roles.may_edit_identity(request.user, obj)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "role", "subscription_tier", "total_messages", "total_tokens_used", "created_at", "deleted_at"]
    list_filter = ["role", "subscription_tier", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
    ordering = ["email"]
    readonly_fields = ["total_messages", "total_tokens_used", "created_at", "updated_at", "last_login", "deleted_at"]
    fields = ["email", "name", "role", "subscription_tier", *readonly_fields]
    inlines = [UserSettingsInline, LinkedAccountInline]
    actions = ["soft_delete", "restore"]
    list_per_page = 50

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = UserCreationForm if obj is None else UserChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "name", "role", "subscription_tier", "password"]
        return self.fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Users of the editor's own rank or above (and the editor) are view-only here.
        return super().has_change_permission(request, obj) and (obj is None or roles.may_manage(request.user, obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields if obj is not None else [])
        if obj is not None and not roles.may_edit_identity(request.user, obj):
            readonly.append("email")
        # Only a super administrator may hand out or take away administrative roles.
        if obj is not None and not request.user.is_superuser:
            readonly += ["role"] if obj.role in roles.ADMIN_ROLES or obj.pk == request.user.pk else []
        return readonly

    def save_model(self, request, obj, form, change):
        new_email = None
        if change and "email" in form.changed_data:
            if not roles.may_edit_identity(request.user, obj):  # read-only for them: never reached
                raise PermissionDenied
            new_email, obj.email = obj.email, form.initial["email"]  # unchanged until confirmed
        super().save_model(request, obj, form, change)
        if new_email:
            request_email_change(request, actor=request.user, user=obj, email=new_email)
            messages.info(
                request,
                gettext("A confirmation link was sent to %(email)s. The account keeps its current address until the link is used and the new one made primary.")
                % {"email": new_email},
            )

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [c for c in db_field.choices if c[0] not in ("SUPER_ADMIN", "ADMIN")]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are soft-deleted (action) and purged by the scheduled command

    def _manageable(self, request, users):
        """Split ``users`` into those the editor outranks and a warning naming the others."""
        allowed, refused = [], []
        for user in users:
            (allowed if roles.may_manage(request.user, user) else refused).append(user)
        if refused:
            messages.warning(
                request,
                gettext("Not changed (your role does not outrank theirs): %(emails)s") % {"emails": ", ".join(u.email for u in refused)},
            )
        return allowed

    @admin.action(description=_("Delete the selected accounts (soft delete)"), permissions=["change"])
    def soft_delete(self, request, queryset):
        users = self._manageable(request, queryset.filter(deleted_at__isnull=True))
        for user in users:
            services.user_soft_delete(user=user, actor=request.user)
        if users:
            messages.success(request, _("The selected accounts were deleted; they are purged after the grace period."))

    @admin.action(description=_("Restore the selected accounts"), permissions=["change"])
    def restore(self, request, queryset):
        users = self._manageable(request, queryset.filter(deleted_at__isnull=False))
        for user in users:
            services.user_restore(user=user, actor=request.user)
        if users:
            messages.success(request, _("The selected accounts were restored."))


@admin.register(Account)
class AccountAdmin(MaskedEncryptedFieldsMixin, admin.ModelAdmin):
    list_display = ["provider", "provider_account_id", "user", "encrypted_values", "created_at"]
    list_filter = ["provider"]
    search_fields = ["provider_account_id", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    fields = ["user", "provider", "provider_account_id", "encrypted_values", "created_at"]
    readonly_fields = ["user", "provider", "provider_account_id", "encrypted_values", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # These rows hold sign-in tokens: identity, a SUPER_ADMIN's call on users below them.
        return (
            request.user.is_superuser and super().has_delete_permission(request, obj)
            and (obj is None or roles.may_edit_identity(request.user, obj.user))
        )


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "ip_address", "user_agent", "last_activity", "expires", "created_at"]
    search_fields = ["user__email", "ip_address"]
    list_select_related = ["user"]
    list_filter = [("user", admin.EmptyFieldListFilter)]
    fields = ["user", "ip_address", "user_agent", "last_activity", "expires", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or obj.user is None or roles.may_manage(request.user, obj.user)
        )

    def delete_model(self, request, obj):
        services.audit_log_record(actor=request.user, action="session.revoke", target_type="auth_session", target_id=obj.pk)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for session in queryset:
            self.delete_model(request, session)


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email"]

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("This person already has an account."))
        return email


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "invited_by", "expires_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["invited_by"]
    readonly_fields = ["email", "status", "invited_by", "expires_at", "created_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InvitationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["email"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        issued = services.invitation_create(invited_by=request.user, email=form.cleaned_data["email"])
        obj.pk = issued.invitation.pk  # so the admin's redirect and log point at the real row

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected invitations"), permissions=["change"])
    def revoke(self, request, queryset):
        for invitation in queryset:
            try:
                services.invitation_revoke(actor=request.user, invitation=invitation)
            except InvitationError as exc:
                messages.warning(request, f"{invitation.email}: {exc}")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action", "admin", "target_type", "target_id", "summary"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "admin__email", "target_id"]
    list_select_related = ["admin"]
    date_hierarchy = "timestamp"

    @admin.display(description=_("what"))
    def summary(self, obj) -> str:
        """For admin bypass rows: the model, object, view and action; the reason otherwise."""
        details = obj.details if isinstance(obj.details, dict) else {}
        parts = [str(details[k]) for k in ("model", "object_id", "view", "action") if details.get(k)]
        return " · ".join(parts) or str(details.get("reason", ""))[:120]


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "default_model", "temperature", "max_tokens", "rag_enabled", "language"]
    list_filter = ["default_model", "rag_enabled", "language"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # one per user, created with the user

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or roles.may_manage(request.user, obj.user))


# --- allauth's identity records ----------------------------------------------------------------


class IdentityAdmin(admin.ModelAdmin):
    """allauth rows that decide who can sign in as whom: read-only; a SUPER_ADMIN may delete them
    for users below them (a lost phone, an unwanted link). ``roles`` gives ADMIN view rights only."""

    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or roles.may_edit_identity(request.user, obj.user)
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


class EmailAddressAddForm(forms.ModelForm):
    editor: User | None = None  # set per request by EmailAddressAdmin.get_form

    class Meta:
        model = EmailAddress
        fields = ["user", "email"]

    def clean(self):
        cleaned = super().clean()
        user, email = cleaned.get("user"), cleaned.get("email")
        if user is not None and (self.editor is None or not roles.may_edit_identity(self.editor, user)):
            self.add_error("user", _("Only a super administrator may add addresses, and only to users of a lower role."))
        if email:
            cleaned["email"] = email = User.objects.normalize_email(email)
            if _email_taken(email, by_other_than=None):
                self.add_error("email", _("Another account already uses this address."))
        return cleaned

    def _post_clean(self):  # the row is created by allauth in save_model, not by this form
        pass


@admin.register(EmailAddress)
class EmailAddressAdmin(IdentityAdmin):
    list_display = ["email", "user", "primary", "verified"]
    list_filter = ["primary", "verified"]
    search_fields = ["email", "user__email"]
    autocomplete_fields = ["user"]

    def get_fields(self, request, obj=None):
        return ["user", "email"] if obj is None else ["user", "email", "primary", "verified"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_add_permission(self, request):
        return admin.ModelAdmin.has_add_permission(self, request)  # SUPER_ADMIN (roles); user checked in the form

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.primary)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = EmailAddressAddForm
        form = super().get_form(request, obj, **kwargs)
        form.editor = request.user
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return
        address = request_email_change(request, actor=request.user, user=form.cleaned_data["user"], email=form.cleaned_data["email"])
        obj.pk = address.pk  # so the admin's redirect and log point at the real row

    def delete_model(self, request, obj):
        services.audit_log_record(actor=request.user, action="user.email_remove", target_type="user", target_id=obj.user_id, details={"email": obj.email})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for address in queryset:
            self.delete_model(request, address)


@admin.register(SocialAccount)
class SocialAccountAdmin(IdentityAdmin):
    list_display = ["user", "provider", "uid", "last_login", "date_joined"]
    list_filter = ["provider"]
    search_fields = ["uid", "user__email"]
    fields = ["user", "provider", "uid", "last_login", "date_joined"]

    def delete_model(self, request, obj):
        services.account_link_remove(user=obj.user, provider=obj.provider, provider_account_id=str(obj.uid))
        services.audit_log_record(
            actor=request.user, action="user.social_unlink", target_type="user", target_id=obj.user_id,
            details={"provider": obj.provider, "uid": str(obj.uid)},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for account in queryset.select_related("user"):
            self.delete_model(request, account)


@admin.register(Authenticator)
class AuthenticatorAdmin(IdentityAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = ["user", "type", "created_at", "last_used_at"]  # never `data`: the secret and codes

    def delete_model(self, request, obj):
        services.audit_log_record(
            actor=request.user, action="user.mfa_reset", target_type="user", target_id=obj.user_id, details={"type": obj.type},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for authenticator in queryset.select_related("user"):
            self.delete_model(request, authenticator)
