"""Support staff work in the admin: the ticket queue, the conversation with its reply box and
internal notes, assignment, the AI suggestion, canned replies, help articles and the metrics page.

Every page runs through the audited bypass (``core.tenancy.TenantMiddleware``), and every staff
change goes through ``support.services``, which writes its own ``audit_logs`` row. Who may open
what follows ``accounts.roles``: SUPPORT sees the support models and the audit log, and of a
ticket's user only what the ticket needs (email, name, plan), shown on the ticket itself.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.services import audit_log_record
from chats.rendering import render_markdown, render_person
from core.errors import UserFacingError
from storage.models import StorageFile
from storage.serving import file_response

from . import metrics, selectors
from .models import (
    CannedReply,
    HelpArticle,
    Priority,
    SupportMessage,
    SupportMetrics,
    SupportTicket,
    TicketStatus,
)
from .sla import sla_state
from .suggestions import suggestion_of

# Colours come from static/css/support-admin.css (the CSP allows no inline style).
ADMIN_CSS = {"all": ["css/support-admin.css"]}


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("unassigned", _("Unassigned")), ("mine", _("Mine")), ("overdue", _("Overdue")),
            ("waiting", _("Waiting for the user")), ("open", _("All open")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        open_statuses = [TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING]
        if value == "unassigned":
            return queryset.filter(assigned_to__isnull=True, status__in=open_statuses)
        if value == "mine":
            return queryset.filter(assigned_to=request.user, status__in=open_statuses)
        if value == "waiting":
            return queryset.filter(status=TicketStatus.WAITING)
        if value == "open":
            return queryset.filter(status__in=open_statuses)
        if value == "overdue":
            now = timezone.now()
            return queryset.filter(
                status__in=[TicketStatus.OPEN, TicketStatus.IN_PROGRESS],
            ).filter(
                admin_overdue_q(now)
            )
        return queryset


def admin_overdue_q(now):
    from django.db.models import Q

    return Q(first_response_at__isnull=True, response_due_at__lt=now) | Q(resolution_due_at__lt=now)


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    @property
    def form(self):
        # The form needs support.services, which pulls rag (bs4, numpy) in: import it when a ticket
        # page is first built, not at every Django start (the admin is imported by django.setup()).
        from .admin_forms import TicketWorkForm

        return TicketWorkForm

    class Media:
        css = ADMIN_CSS

    list_display = ["ticket_number", "title", "user_email", "category", "priority_badge", "status", "sla_badge",
                    "assigned_to", "last_activity_at"]
    list_filter = [QueueFilter, "priority", "status", "category", "ai_resolved"]
    search_fields = ["ticket_number", "title", "user__email"]
    list_select_related = ["user", "assigned_to"]
    ordering = ["-last_activity_at"]
    actions = ["assign_to_me", "mark_resolved"]
    readonly_fields = ["ticket_number", "title", "user_summary", "description_text", "attachments_list", "created_at",
                       "sla_summary", "conversation", "ai_panel", "rating", "ai_resolved"]
    fieldsets = [
        (None, {"fields": ["ticket_number", "title", "user_summary", "created_at", "description_text",
                           "attachments_list"]}),
        (_("Conversation"), {"fields": ["conversation"]}),
        (_("Reply"), {"fields": ["canned_reply", "reply", "internal"]}),
        (_("Work"), {"fields": ["status", "priority", "category", "assigned_to", "sla_summary", "rating",
                                "ai_resolved"]}),
        (_("AI suggestion"), {"fields": ["ai_panel"]}),
    ]

    def has_add_permission(self, request):
        return False  # tickets are opened by their users, at /support/new/

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        number = selectors.number_query(search_term)
        if number:
            results = results | queryset.filter(ticket_number=number)
        return results, duplicates

    # --- list columns ---

    @admin.display(description=_("user"), ordering="user__email")
    def user_email(self, obj):
        return obj.user.email

    @admin.display(description=_("priority"), ordering="priority")
    def priority_badge(self, obj):
        return format_html('<strong class="support-priority support-priority-{}">{}</strong>', obj.priority.lower(),
                           obj.get_priority_display())

    @admin.display(description=_("SLA"))
    def sla_badge(self, obj):
        state = sla_state(obj)
        return format_html('<span class="support-sla support-sla-{}">{}</span>', state.key, state.label)

    # --- change page ---

    @admin.display(description=_("user"))
    def user_summary(self, obj):
        user = obj.user
        return format_html("{} · {} · {}", user.email, user.name or "—", user.get_subscription_tier_display())

    @admin.display(description=_("description"))
    def description_text(self, obj):
        return mark_safe(render_person(obj.description))  # noqa: S308 - sanitised by chats.rendering

    @admin.display(description=_("attachments"))
    def attachments_list(self, obj):
        items = list((obj.metadata or {}).get("attachments", []))
        for message in selectors.staff_messages(obj):
            items.extend(message.attachments or [])
        if not items:
            return "—"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({})', (
            (reverse("admin:support_supportticket_attachment", args=[obj.pk, a.get("file_id")]), a.get("name", ""),
             filesizeformat(a.get("size", 0))) for a in items if a.get("file_id")))

    @admin.display(description=_("SLA"))
    def sla_summary(self, obj):
        state = sla_state(obj)
        parts = [format_html('<strong class="support-sla support-sla-{}">{}</strong>', state.key, state.label)]
        if obj.response_due_at:
            parts.append(format_html("{}: {}", _("first response due"), _when(obj.response_due_at)))
        if obj.first_response_at:
            parts.append(format_html("{}: {}", _("first response"), _when(obj.first_response_at)))
        if obj.resolution_due_at:
            parts.append(format_html("{}: {}", _("resolution due"), _when(obj.resolution_due_at)))
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts))

    @admin.display(description=_("conversation (newest last)"))
    def conversation(self, obj):
        rows = []
        for message in selectors.staff_messages(obj):
            who = (_("AI (sent by %(name)s)") % {"name": message.author.email if message.author else "—"} if message.is_ai
                   else (message.author.email if message.author else _("system")))
            label = _("internal note") if message.is_internal else (_("staff") if message.is_staff else _("user"))
            body = render_markdown(message.content) if message.is_staff else render_person(message.content)
            kind = "internal" if message.is_internal else ("staff" if message.is_staff else "user")
            rows.append(format_html('<div class="support-admin-message support-admin-{}"><p><strong>{}</strong> · {} · '
                                    '{}</p>{}</div>', kind, who, label, _when(message.created_at),
                                    mark_safe(body)))  # noqa: S308 - sanitised by chats.rendering
        if not rows:
            return _("No messages yet.")
        return format_html_join("", "{}", ((r,) for r in rows))

    @admin.display(description=_("suggestion"))
    def ai_panel(self, obj):
        suggestion = suggestion_of(obj)
        if suggestion is None:
            return _("No suggestion yet: the AI triage runs when the ticket is opened.")
        decision = obj.get_ai_decision_display() if obj.ai_decision else _("not decided yet")
        citations = format_html_join(mark_safe("<br>"), '[{}] <a href="{}" target="_blank" rel="noopener">{}</a>',
                                     ((c.number, c.url, c.title) for c in suggestion.citations))
        buttons = format_html(
            '<button type="submit" class="button" formaction="{}">{}</button> '
            '<button type="submit" class="button" formaction="{}">{}</button> '
            '<button type="submit" class="button" formaction="{}">{}</button>',
            reverse("admin:support_supportticket_ai", args=[obj.pk, "accept"]), _("Apply category and priority"),
            reverse("admin:support_supportticket_ai", args=[obj.pk, "send"]), _("Send the draft as an AI answer"),
            reverse("admin:support_supportticket_ai", args=[obj.pk, "discard"]), _("Discard"),
        )
        return format_html(
            '<p>{}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: {} · {}: {}</p>'
            '<label for="id_ai_draft">{}</label><br>'
            '<textarea id="id_ai_draft" name="ai_draft" rows="8" cols="80">{}</textarea>'
            '<p>{}</p><p>{}</p>',
            _("category"), suggestion.category_label or "—", _("priority"), suggestion.priority_label or "—",
            _("model"), suggestion.model or "—", _("decision"), decision,
            _("Drafted answer (edit before sending if needed)"), suggestion.answer, citations or "", buttons,
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "assigned_to")

    def save_model(self, request, obj, form, change):
        """Changes go through the services (audited, the user told), never ``obj.save()``."""
        from . import services

        original = SupportTicket.objects.get(pk=obj.pk)
        data = form.cleaned_data
        assignee = data.get("assigned_to")
        try:
            ticket = services.staff_update(actor=request.user, ticket=original, status=data.get("status"),
                                           priority=data.get("priority"), category=data.get("category"),
                                           assigned_to_id=assignee.pk if assignee else None)
            text = (data.get("reply") or "").strip()
            if not text and data.get("canned_reply"):
                text = services.canned_reply_render(data["canned_reply"], ticket)
            if text:
                services.staff_reply(actor=request.user, ticket=ticket, content=text, internal=bool(data.get("internal")))
        except UserFacingError as exc:
            self._refusal = exc.message
            raise _Refused from exc

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._refusal = None
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused:
            messages.error(request, self._refusal)
            return HttpResponseRedirect(request.path)

    def save_related(self, request, form, formsets, change):
        pass  # no inlines; the ticket's fields were saved by the services

    def construct_change_message(self, request, form, formsets, add=False):
        return ""

    def log_change(self, request, obj, message):
        pass  # the services wrote the audit rows

    # --- extra pages ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<str:object_id>/ai/<str:action>/", self.admin_site.admin_view(self.ai_view), name="%s_%s_ai" % info),
            path("<str:object_id>/attachment/<uuid:file_id>/", self.admin_site.admin_view(self.attachment_view),
                 name="%s_%s_attachment" % info),
            *super().get_urls(),
        ]

    def ai_view(self, request, object_id, action):
        from . import services

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        ticket = get_object_or_404(SupportTicket, pk=_uuid_or_404(object_id))
        try:
            if action == "accept":
                services.ai_suggestion_accept(actor=request.user, ticket=ticket)
                messages.success(request, _("The suggested category and priority were applied."))
            elif action == "send":
                services.ai_suggestion_send(actor=request.user, ticket=ticket, text=request.POST.get("ai_draft", ""))
                messages.success(request, _("The drafted answer was sent to the user, marked as AI-drafted."))
            elif action == "discard":
                services.ai_suggestion_discard(actor=request.user, ticket=ticket)
                messages.success(request, _("The suggestion was discarded."))
            else:
                raise Http404
        except UserFacingError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:support_supportticket_change", args=[ticket.pk]))

    def attachment_view(self, request, object_id, file_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        ticket = get_object_or_404(SupportTicket, pk=_uuid_or_404(object_id))
        listed = {a.get("file_id") for a in (ticket.metadata or {}).get("attachments", [])}
        listed |= {a.get("file_id") for m in selectors.staff_messages(ticket) for a in (m.attachments or [])}
        if str(file_id) not in listed:
            raise Http404
        file = get_object_or_404(StorageFile, pk=file_id, user_id=ticket.user_id, deleted_at__isnull=True)
        audit_log_record(actor=request.user, action="support.attachment_view", target_type="support_tickets",
                         target_id=ticket.pk, details={"file": str(file.pk)})
        return file_response(request, file)

    # --- actions ---

    @admin.action(description=_("Assign the selected tickets to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        from . import services

        if request.user.role not in services.ASSIGNABLE_ROLES:
            self.message_user(request, _("Tickets can be assigned only to support staff or admins."), messages.ERROR)
            return
        done = services.staff_assign_to_me_many(actor=request.user, tickets=list(queryset))
        self.message_user(request, ngettext("%(count)d ticket assigned to you.", "%(count)d tickets assigned to you.",
                                            done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Mark the selected tickets resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        from . import services

        done = services.staff_resolve_many(actor=request.user, tickets=list(queryset))
        self.message_user(request, ngettext("%(count)d ticket resolved.", "%(count)d tickets resolved.", done)
                          % {"count": done}, messages.SUCCESS)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


class _Refused(Exception):
    """A service refused a staff change; the change page shows its message."""


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@admin.register(SupportMessage)
class SupportMessageAdmin(admin.ModelAdmin):
    """Messages are written on their ticket's page; here they are searched and read."""

    list_display = ["ticket", "author", "is_staff", "is_ai", "is_internal", "created_at"]
    list_filter = ["is_staff", "is_ai", "is_internal"]
    search_fields = ["content", "ticket__ticket_number", "user__email"]
    list_select_related = ["ticket", "author"]
    fields = ["ticket", "author", "content", "is_staff", "is_ai", "is_internal", "attachments", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HelpArticle)
class HelpArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "language", "is_published", "indexed", "updated_at"]
    list_filter = ["is_published", "language", "category"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "category", "language", "is_published", "body", "created_by", "updated_at"]
    readonly_fields = ["created_by", "updated_at"]
    actions = ["publish", "unpublish"]

    @admin.display(description=_("indexed"), boolean=True)
    def indexed(self, obj):
        return bool(obj.rag_document_id)

    def save_model(self, request, obj, form, change):
        from . import services

        services.help_article_save(actor=request.user, article=obj, created=not change)

    def delete_model(self, request, obj):
        from . import services

        services.help_article_delete(actor=request.user, article=obj)

    def delete_queryset(self, request, queryset):
        from . import services

        for article in queryset:
            services.help_article_delete(actor=request.user, article=article)

    def log_addition(self, request, obj, message):
        pass  # audited by the service

    def log_change(self, request, obj, message):
        pass

    def log_deletion(self, request, obj, object_repr):
        pass

    @admin.action(description=_("Publish the selected articles"), permissions=["change"])
    def publish(self, request, queryset):
        from . import services

        for article in queryset.filter(is_published=False):
            article.is_published = True
            services.help_article_save(actor=request.user, article=article, created=False)

    @admin.action(description=_("Unpublish the selected articles"), permissions=["change"])
    def unpublish(self, request, queryset):
        from . import services

        for article in queryset.filter(is_published=True):
            article.is_published = False
            services.help_article_save(actor=request.user, article=article, created=False)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "updated_at"]
    search_fields = ["title", "body"]
    fields = ["title", "body"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_log_record(actor=request.user, action="support.canned_change" if change else "support.canned_create",
                         target_type="support_canned_replies", target_id=obj.pk, details={"title": obj.title})

    def delete_model(self, request, obj):
        audit_log_record(actor=request.user, action="support.canned_delete", target_type="support_canned_replies",
                         target_id=obj.pk, details={"title": obj.title})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for reply in queryset:
            self.delete_model(request, reply)


@admin.register(SupportMetrics)
class SupportMetricsAdmin(admin.ModelAdmin):
    """The metrics page, linked from the admin index as "Support metrics"."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    fields = ["ticket_number", "title", "status", "priority"]
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": _("Support metrics"), "opts": self.opts,
                   "report": metrics.support_report(), "priorities": Priority.choices,
                   "statuses": TicketStatus.choices}
        return TemplateResponse(request, "admin/support/metrics.html", context)
