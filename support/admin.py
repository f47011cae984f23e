from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import SupportMessage, SupportTicket, TicketStatus


class SupportMessageInline(admin.StackedInline):
    model = SupportMessage
    extra = 1
    fields = ["content", "author", "is_staff", "is_ai", "created_at"]
    readonly_fields = ["author", "is_staff", "is_ai", "created_at"]


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = ["ticket_number", "title", "user", "category", "priority", "status", "assigned_to", "ai_resolved", "created_at"]
    list_filter = ["status", "priority", "category", "ai_resolved"]
    search_fields = ["ticket_number", "title", "description", "user__email"]
    autocomplete_fields = ["user", "assigned_to"]
    readonly_fields = ["ticket_number", "ai_suggestion", "ai_resolved", "resolved_at", "created_at", "updated_at"]
    list_select_related = ["user", "assigned_to"]
    inlines = [SupportMessageInline]
    actions = ["assign_to_me", "mark_resolved"]

    def save_formset(self, request, form, formset, change):
        for message in formset.save(commit=False):
            if message.pk is None or message._state.adding:
                message.author = request.user
                message.is_staff = True
                message.user_id = form.instance.user_id
            message.save()
        for obj in formset.deleted_objects:
            obj.delete()

    @admin.action(description=_("Assign the selected tickets to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        queryset.update(assigned_to=request.user, status=TicketStatus.IN_PROGRESS)

    @admin.action(description=_("Mark the selected tickets resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        queryset.update(status=TicketStatus.RESOLVED, resolved_at=timezone.now())


@admin.register(SupportMessage)
class SupportMessageAdmin(admin.ModelAdmin):
    list_display = ["ticket", "author", "is_staff", "is_ai", "created_at"]
    list_filter = ["is_staff", "is_ai"]
    search_fields = ["content", "ticket__ticket_number", "user__email"]
    autocomplete_fields = ["ticket"]
    readonly_fields = ["user", "author", "created_at"]
    list_select_related = ["ticket", "author"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
            obj.is_staff = True
        super().save_model(request, obj, form, change)
