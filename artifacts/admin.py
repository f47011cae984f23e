"""Artifacts in the admin (issue 10 item 8): staff see what exists, never what it says.

Every page runs through the audited bypass (``core.tenancy.TenantMiddleware`` writes an
``audit_logs`` row naming the model, the object, the view and, for an action, the rows it ran on),
so revoking a share from here is audited like any staff access. The content is shown neither in
the list nor on the change page; the rows are written by the app only (versions are never
rewritten), so the one write here is revoking public links (the action states its permission).
"""

from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Artifact


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "version", "user", "agent", "size", "is_public", "created_at"]
    list_filter = ["type", "is_public"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user", "agent"]
    # Never the content nor the share token's digest.
    fields = ["name", "type", "version", "user", "agent", "conversation", "parent", "size", "is_public", "created_at"]
    readonly_fields = fields
    actions = ["revoke_shares"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    @admin.display(description=_("size"))
    def size(self, obj):
        size = (obj.metadata or {}).get("byte_size") if isinstance(obj.metadata, dict) else None
        return filesizeformat(size) if isinstance(size, int) else "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the owner deletes an artifact (its versions and blobs together)

    @admin.action(description=_("Stop sharing the selected artifacts"), permissions=["change"])
    def revoke_shares(self, request, queryset):
        count = queryset.filter(is_public=True).update(is_public=False, share_token=None)
        self.message_user(request, ngettext("%(count)d link revoked.", "%(count)d links revoked.", count) % {"count": count},
                          messages.SUCCESS)
