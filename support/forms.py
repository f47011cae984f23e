"""Forms of the support pages (the services check everything again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TicketCategory
from .services import DESCRIPTION_MAX, MESSAGE_MAX, TITLE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


ATTACH_HELP = _("Optional: screenshots, PDF, text, CSV, JSON or ZIP files.")


class TicketForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "data-deflect": "title"}))
    category = forms.ChoiceField(label=_("Category"), choices=TicketCategory.choices, initial=TicketCategory.OTHER)
    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 8, "data-deflect": "description"}),
                                  help_text=_("What happened, what you expected, and the steps to see it."))
    files = MultipleFileField(label=_("Attachments"), help_text=ATTACH_HELP)


class ReplyForm(forms.Form):
    content = forms.CharField(label=_("Your message"), max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=_("Attachments"), help_text=ATTACH_HELP)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("How helpful was the answer?"), coerce=int,
                                    choices=[(i, str(i)) for i in range(1, 6)], widget=forms.RadioSelect)
