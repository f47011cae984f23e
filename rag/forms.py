"""Forms of the Documents pages: adding a document three ways, editing its details, retrieval settings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePosixPath

from django import forms
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import services
from .errors import FetchError
from .models import RagDocument
from .urlfetch import check_url

ALLOWED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".pdf", ".csv", ".docx")
TAGS_MAX = 20
TAG_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 300
COLLECTION_MAX_LENGTH = 100
URL_MAX_LENGTH = 2000
# Form posts are capped by DATA_UPLOAD_MAX_MEMORY_SIZE (2 MiB); URL-encoding can take up to 9 bytes
# per character, so longer texts go through a file upload instead of a generic "Bad request".
TEXT_MAX_LENGTH = 200_000


def _collection_widget() -> forms.TextInput:
    # The page carries a <datalist id="rag-collections"> of the user's collections.
    return forms.TextInput(attrs={"list": "rag-collections", "autocomplete": "off"})


class DocumentDetailsForm(forms.Form):
    """Title, tags and collection: the details every way of adding a document shares."""

    title_required = False

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH, required=False, strip=True)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=TAGS_MAX * (TAG_MAX_LENGTH + 2),
        help_text=_("Separated by commas, for example: contracts, 2024. At most 20 tags of 40 characters each."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    collection = forms.CharField(
        label=_("Collection"),
        max_length=COLLECTION_MAX_LENGTH,
        required=False,
        strip=True,
        help_text=_("Optional. Group related documents, then choose which collections answers may use."),
        widget=_collection_widget(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.title_required:
            self.fields["title"].required = True
            self.fields["title"].error_messages["required"] = _("Give the document a title.")
        else:
            self.fields["title"].help_text = _("Optional: the file's or page's own title is used otherwise.")

    def clean_tags(self) -> list[str]:
        raw = [item for item in (part.strip() for part in self.cleaned_data["tags"].split(",")) if item]
        if len(raw) > TAGS_MAX:
            raise forms.ValidationError(
                _("Use at most %(max)s tags (you entered %(count)s)."), params={"max": TAGS_MAX, "count": len(raw)}
            )
        too_long = [tag for tag in raw if len(" ".join(tag.split())) > TAG_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _("Each tag can have at most %(max)s characters."), params={"max": TAG_MAX_LENGTH}
            )
        return services.clean_tags(raw)

    def clean_collection(self) -> str:
        return " ".join(self.cleaned_data["collection"].split())

    def details(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("title", "tags", "collection")}


class FileDocumentForm(DocumentDetailsForm):
    file = forms.FileField(
        label=_("File"),
        help_text=_("Text (.txt), Markdown (.md), web page (.html, .htm), PDF, CSV or Word (.docx)."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
        error_messages={
            "required": _("Choose a file to upload."),
            "empty": _("This file is empty."),
            "invalid": _("No file was received. Choose the file again."),
            "missing": _("No file was received. Choose the file again."),
        },
    )

    field_order = ["file", "title", "tags", "collection"]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        suffix = PurePosixPath((uploaded.name or "").replace("\\", "/")).suffix.lower()
        if suffix not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(
                _("Files of this type are not supported. Upload one of: %(extensions)s."),
                params={"extensions": ", ".join(ALLOWED_EXTENSIONS)},
            )
        return uploaded


class TextDocumentForm(DocumentDetailsForm):
    title_required = True

    text = forms.CharField(
        label=_("Text"),
        max_length=TEXT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Plain text or Markdown; lines starting with # become headings."),
        error_messages={
            "required": _("Paste some text first."),
            "max_length": _("This text is too long (%(show_value)s characters; the limit is %(limit_value)s). "
                            "Save it in a file and upload the file instead."),
        },
    )

    field_order = ["title", "text", "tags", "collection"]


class UrlDocumentForm(DocumentDetailsForm):
    url = forms.CharField(
        label=_("Web address"),
        max_length=URL_MAX_LENGTH,
        strip=True,
        help_text=_("The page is fetched once now; re-index the document to fetch it again."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url", "inputmode": "url"}),
        validators=[URLValidator(schemes=["http", "https"],
                                 message=_("Enter a web address starting with http:// or https://."))],
        error_messages={"required": _("Enter a web address.")},
    )

    field_order = ["url", "title", "tags", "collection"]

    # The same test hooks as ``rag.urlfetch.fetch_url``'s; production uses the defaults.
    url_resolver = None
    url_allow = None

    def clean_url(self) -> str:
        """Refuse here what fetching would refuse (scheme, host, every resolved address), with the
        same message; the worker vets again when it fetches, since DNS answers can change."""
        url = self.cleaned_data["url"]
        try:
            check_url(url, resolver=self.url_resolver, allow=self.url_allow)
        except FetchError as exc:
            raise forms.ValidationError(exc.message) from None
        return url


class DocumentEditForm(DocumentDetailsForm):
    """Edit a document's title, tags and collection.

    Collection and tags are also copied into the vector store's metadata (used to filter searches),
    which only indexing writes; so when they change, the document is re-indexed.
    """

    title_required = True

    def __init__(self, *args, document: RagDocument, **kwargs):
        self.document = document
        kwargs.setdefault("initial", {
            "title": document.title, "tags": ", ".join(document.tags), "collection": document.collection,
        })
        super().__init__(*args, **kwargs)

    @transaction.atomic
    def save(self, *, user) -> bool:
        """Store the new details (see ``services.document_update_metadata``); True if re-indexing."""
        data = self.cleaned_data
        return services.document_update_metadata(
            user=user, document=self.document, title=data["title"], tags=data["tags"], collection=data["collection"]
        )


class RagSettingsForm(forms.Form):
    top_k = forms.IntegerField(
        label=_("Passages per answer"),
        min_value=1,
        max_value=50,
        help_text=_("How many passages of your documents an agent reads before answering (1 to 50). "
                    "More passages give more context but longer, slower answers."),
        error_messages={
            "required": _("Enter a number from 1 to 50."),
            "invalid": _("Enter a whole number from 1 to 50."),
            "min_value": _("Enter a number from 1 to 50."),
            "max_value": _("Enter a number from 1 to 50."),
        },
    )
    threshold = forms.DecimalField(
        label=_("Minimum relevance"),
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        max_digits=4,
        decimal_places=3,
        help_text=_("From 0 to 1. How close in meaning a passage must be, compared with what a search usually "
                    "finds. 0 keeps every passage found; 0.5 leaves out passages less similar to the question "
                    "than half of the 30 nearest ones a search usually finds; 0.9 keeps only the closest tenth, "
                    "so agents may find nothing. Passages that contain the question's words are still found."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        error_messages={
            "required": _("Enter a number from 0 to 1."),
            "invalid": _("Enter a number from 0 to 1, for example 0.35."),
            "min_value": _("Enter a number from 0 to 1."),
            "max_value": _("Enter a number from 0 to 1."),
            "max_digits": _("Use at most 3 decimal places, for example 0.35."),
            "max_decimal_places": _("Use at most 3 decimal places, for example 0.35."),
            "max_whole_digits": _("Enter a number from 0 to 1."),
        },
    )
    collections = forms.MultipleChoiceField(
        label=_("Collections to search"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unchecked to search every document."),
        error_messages={"invalid_choice": _("“%(value)s” is not one of your collections.")},
    )

    def __init__(self, *args, collections: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collections"].choices = collections
