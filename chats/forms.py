from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class MessageForm(forms.Form):
    content = forms.CharField(
        label=_("Message"),
        max_length=settings.MAX_MESSAGE_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Write a message…"), "autocomplete": "off"}),
        error_messages={
            "required": _("Write a message first."),
            "max_length": _("This message is too long: %(show_value)s characters, the limit is %(limit_value)s."),
        },
    )


class RenameForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, strip=True)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search your conversations"), max_length=200, required=False, strip=True)
