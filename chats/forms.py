from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.text import strip_control_chars


class TextField(forms.CharField):
    """Text as people type it: C0 control characters (other than tab and line breaks) removed
    before anything else looks at it. They have no business in a message, and two of them are the
    search snippets' highlight markers."""

    def to_python(self, value):
        return super().to_python(strip_control_chars(value) if isinstance(value, str) else value)


class MessageForm(forms.Form):
    content = TextField(
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
    title = TextField(label=_("Title"), max_length=200, strip=True)


class SearchForm(forms.Form):
    q = TextField(label=_("Search your conversations"), max_length=200, required=False, strip=True)
