"""Admin for the accounts domain. Staff reach tenant rows only through the middleware's audited
bypass; encrypted values are never shown, and counters are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import MaskedEncryptedFieldsMixin, ReadOnlyAdmin

from . import services
from .models import Account, AuditLog, AuthSession, Invitation, User, UserSettings


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


class UserSettingsInline(admin.StackedInline):
    model = UserSettings
    can_delete = False
    extra = 0
    fields = ["default_model", "temperature", "max_tokens", "rag_enabled", "language"]


class LinkedAccountInline(MaskedEncryptedFieldsMixin, admin.TabularInline):
    model = Account
    extra = 0
    can_delete = True
    fields = ["provider", "provider_account_id", "encrypted_values", "created_at"]
    readonly_fields = ["provider", "provider_account_id", "encrypted_values", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


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
        if obj is None:
            kwargs["form"] = UserCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "name", "role", "subscription_tier", "password"]
        return self.fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields if obj is not None else [])
        # Only a super administrator may hand out or take away administrative roles.
        if obj is not None and not request.user.is_superuser:
            readonly += ["role"] if obj.role in ("SUPER_ADMIN", "ADMIN") or obj.pk == request.user.pk else []
        return readonly

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [c for c in db_field.choices if c[0] not in ("SUPER_ADMIN", "ADMIN")]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are soft-deleted (action) and purged by the scheduled command

    @admin.action(description=_("Delete the selected accounts (soft delete)"))
    def soft_delete(self, request, queryset):
        for user in queryset.filter(deleted_at__isnull=True):
            services.user_soft_delete(user=user, actor=request.user)
        messages.success(request, _("The selected accounts were deleted; they are purged after the grace period."))

    @admin.action(description=_("Restore the selected accounts"))
    def restore(self, request, queryset):
        for user in queryset.filter(deleted_at__isnull=False):
            services.user_restore(user=user, actor=request.user)
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

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request, queryset):
        for invitation in queryset:
            try:
                services.invitation_revoke(actor=request.user, invitation=invitation)
            except services.InvitationError as exc:
                messages.warning(request, f"{invitation.email}: {exc}")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action", "admin", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "admin__email", "target_id"]
    list_select_related = ["admin"]
    date_hierarchy = "timestamp"


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "default_model", "temperature", "max_tokens", "rag_enabled", "language"]
    list_filter = ["default_model", "rag_enabled", "language"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # one per user, created with the user
