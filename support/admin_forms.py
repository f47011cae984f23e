"""The ticket work form of the support admin, apart from ``support.admin``: it needs
``support.services`` (and with it rag, bs4 and numpy), which the admin imports only when a ticket
page is built, not at every Django start."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import CannedReply, SupportTicket, TicketStatus


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name or obj.email} ({obj.get_role_display()})" if obj.name else f"{obj.email} ({obj.get_role_display()})"


class TicketWorkForm(forms.ModelForm):
    """The ticket's status, priority, category and assignee, plus a reply or internal note."""

    assigned_to = StaffChoiceField(
        queryset=services.assignable_staff(), required=False, label=_("assigned to"),
        error_messages={"invalid_choice": _("Tickets can be assigned only to support staff or admins.")},
    )
    canned_reply = forms.ModelChoiceField(queryset=CannedReply.objects.none(), required=False, label=_("canned reply"),
                                          help_text=_("Used when the reply box is empty; placeholders such as "
                                                      "{name} are filled in."))
    reply = forms.CharField(label=_("reply"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                            max_length=services.MESSAGE_MAX)
    internal = forms.BooleanField(label=_("internal note (the user never sees it)"), required=False)

    class Meta:
        model = SupportTicket
        fields = ["status", "priority", "category", "assigned_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canned_reply"].queryset = CannedReply.objects.all()
        self.fields["assigned_to"].queryset = services.assignable_staff()

    def clean(self):
        data = super().clean()
        wants_reply = bool((data.get("reply") or "").strip() or data.get("canned_reply"))
        if wants_reply and self.instance.status == TicketStatus.CLOSED and data.get("status") == TicketStatus.CLOSED:
            self.add_error("reply", _("This ticket is closed: reopen it (change its status) to reply."))
        return data
