from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Agent, UserAgentPermission


class PermissionInline(admin.TabularInline):
    model = UserAgentPermission
    fk_name = "agent"
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "granted_by", "granted_at"]
    readonly_fields = ["granted_by", "granted_at"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "model", "is_public", "is_active", "total_uses", "created_by", "created_at"]
    list_filter = ["category", "is_public", "is_active", "model"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["created_by"]
    readonly_fields = ["total_uses", "created_at"]
    list_select_related = ["created_by"]
    inlines = [PermissionInline]
    actions = ["make_public", "make_private", "deactivate"]

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            if isinstance(instance, UserAgentPermission) and instance.granted_by_id is None:
                instance.granted_by = request.user
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()

    # Through the services, so each change writes its audit row as in the app.
    @admin.action(description=_("Make the selected agents public"), permissions=["change"])
    def make_public(self, request, queryset):
        for agent in queryset:
            services.agent_set_public(actor=request.user, agent=agent, public=True)

    @admin.action(description=_("Make the selected agents private"), permissions=["change"])
    def make_private(self, request, queryset):
        for agent in queryset:
            services.agent_set_public(actor=request.user, agent=agent, public=False)

    @admin.action(description=_("Deactivate the selected agents"), permissions=["change"])
    def deactivate(self, request, queryset):
        for agent in queryset:
            services.agent_deactivate(user=request.user, agent=agent)


@admin.register(UserAgentPermission)
class UserAgentPermissionAdmin(admin.ModelAdmin):
    list_display = ["user", "agent", "granted_by", "granted_at"]
    search_fields = ["user__email", "agent__name", "agent__slug"]
    autocomplete_fields = ["user", "agent"]
    readonly_fields = ["granted_by", "granted_at"]
    list_select_related = ["user", "agent", "granted_by"]

    def save_model(self, request, obj, form, change):
        if obj.granted_by_id is None:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
