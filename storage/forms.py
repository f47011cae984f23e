"""Forms of the file manager. Names typed by the owner are refused with a reason (never silently
changed); uploaded names are made safe instead (``storage.uploads.safe_file_name``)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AccessLevel, UsageContext
from .uploads import NAME_MAX_BYTES, name_problem

NAME_MESSAGES = {
    "empty": _("Enter a name."),
    "separator": _("A name cannot contain “/” or “\\”."),
    "control": _("A name cannot contain control characters."),
    "dots": _("“.” and “..” cannot be used as names."),
    "reserved": _("This name is reserved by some systems (CON, NUL, COM1…); choose another."),
    "length": _("This name is too long: at most %(max)s bytes.") % {"max": NAME_MAX_BYTES},
}


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Name"))
        kwargs.setdefault("max_length", NAME_MAX_BYTES)
        super().__init__(strip=False, **kwargs)

    def to_python(self, value):
        return "" if value in self.empty_values else str(value)

    def validate(self, value):
        problem = name_problem(value)
        if problem:
            raise forms.ValidationError(NAME_MESSAGES[problem], code=problem)

    def run_validators(self, value):
        if len(value) > NAME_MAX_BYTES:  # the byte limit says it better than the character one
            raise forms.ValidationError(NAME_MESSAGES["length"], code="length")


class FolderForm(forms.Form):
    name = NameField(label=_("Folder name"))


class RenameForm(forms.Form):
    name = NameField(label=_("New name"))


class MoveForm(forms.Form):
    target = forms.ChoiceField(label=_("Move to"), required=False)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", _("Files (top level)")), *choices]


class DetailsForm(forms.Form):
    usage_context = forms.ChoiceField(label=_("Used for"), choices=UsageContext.choices)
    access_level = forms.ChoiceField(label=_("Access"), choices=AccessLevel.choices)
    expires_at = forms.DateTimeField(label=_("Expires"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                     help_text=_("Leave empty to keep the file. An expired file is deleted."))

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."), code="past")
        return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    files = forms.FileField(label=_("Files"), widget=MultipleFileInput(attrs={"multiple": True}), required=False)
