"""Forms of the artifact pages (sizes are checked by ``artifacts.services.prepare``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .conf import setting
from .models import ArtifactType


class ArtifactForm(forms.Form):
    """A new artifact from scratch (or from a message or a selection of it)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=ArtifactType.choices)
    language = forms.CharField(label=_("Language (for code)"), max_length=40, required=False,
                               help_text=_("For example python, javascript or sql."))
    agent = forms.ChoiceField(label=_("Agent"))
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
                              strip=False)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(str(a.pk), a.display_name) for a in agents]
        self.fields["content"].max_length = setting("ARTIFACTS_MAX_BYTES")

    def clean_language(self):
        return (self.cleaned_data.get("language") or "").strip().lower()


class EditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
                              strip=False)
    base = forms.IntegerField(widget=forms.HiddenInput)  # the version the edit started from

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["content"].max_length = setting("ARTIFACTS_MAX_BYTES")
