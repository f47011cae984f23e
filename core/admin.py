"""Admin building blocks: encrypted values never leave the database in clear through the admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core import crypto

MASK = "••••••"


class MaskedEncryptedFieldsMixin:
    """Excludes encrypted fields from forms and shows only whether each one is set.

    The mask reads the raw column state (ciphertext present or not) without decrypting.
    """

    def _encrypted_names(self) -> list[str]:
        return [f.name for f in crypto.encrypted_fields(self.model)]

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), *self._encrypted_names()]

    @admin.display(description=_("encrypted values"))
    def encrypted_values(self, obj) -> str:
        parts = []
        for field in crypto.encrypted_fields(type(obj)):
            stored = obj.__dict__.get(field.attname)
            parts.append(f"{field.verbose_name}: {MASK if stored not in (None, '') else '—'}")
        return "; ".join(parts) or "—"



class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are written by the system only (logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
