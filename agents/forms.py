from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import email_shape_validator
from core.tenancy import current_context, tenant
from rag.selectors import collections_for_user_id, library_documents_for_choice

from . import registry, validation
from .models import Agent, Category


class ModelSelect(forms.Select):
    """A select whose options for unavailable models are shown but disabled."""

    def __init__(self, *args, disabled_values: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = disabled_values

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


def _model_choices() -> tuple[list[tuple[str, str]], frozenset[str]]:
    """Every model of the registry (available ones first) and the ids of those that are unavailable."""
    available, unavailable = [], []
    for info in registry.all_models():
        if registry.is_available(info.id):
            available.append((info.id, info.label))
        else:
            unavailable.append((info.id, _("%(label)s (unavailable)") % {"label": info.label}))
    return [("", _("Choose a model"))] + available + unavailable, frozenset(value for value, _label in unavailable)


class _FieldGroup:
    """Some of a form's fields, shaped as ``partials/form_fields.html`` reads a form."""

    def __init__(self, form: forms.Form, names: frozenset[str], *, inside: bool):
        self.form, self.names, self.inside = form, names, inside

    def non_field_errors(self):
        return "" if self.inside else self.form.non_field_errors()

    def hidden_fields(self):
        return [] if self.inside else self.form.hidden_fields()

    def visible_fields(self):
        return [field for field in self.form.visible_fields() if (field.name in self.names) == self.inside]


KNOWLEDGE_FIELDS = frozenset({"knowledge_collections", "knowledge_documents"})


class AgentForm(forms.Form):
    """An agent's settings. ``agent`` is the one being edited (None when creating).

    The knowledge fields (the collections and documents it answers from) name the owner's own
    documents, so they are there only when the person filling the form is the agent's owner:
    ``user`` when given, else the person the database context acts for (TenantMiddleware sets it
    for each request). An admin editing someone else's agent leaves its knowledge as it is.
    """

    name = forms.CharField(
        label=_("Name"),
        max_length=validation.NAME_MAX_LENGTH,
        error_messages={"required": _("Give the agent a name.")},
    )
    slug = forms.CharField(
        label=_("Slug"),
        max_length=validation.SLUG_MAX_LENGTH,
        required=False,
        help_text=_(
            "The agent's web address, as in /agents/travel-planner/: lowercase letters, digits and hyphens. "
            "Leave it empty to build it from the name."
        ),
        widget=forms.TextInput(attrs={"pattern": validation.SLUG_PATTERN[1:-1], "autocapitalize": "none", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=validation.DESCRIPTION_MAX_LENGTH,
        required=False,
        help_text=_("One or two sentences for the catalog."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=Category.choices,
        initial=Category.GENERAL,
        error_messages={"invalid_choice": _("Choose one of the listed categories.")},
    )
    model = forms.ChoiceField(
        label=_("Model"),
        help_text=_("Models marked unavailable need their provider to be configured first."),
        error_messages={"required": _("Choose a model."), "invalid_choice": _("Choose one of the listed models.")},
    )
    system_prompt = forms.CharField(
        label=_("System prompt"),
        max_length=validation.SYSTEM_PROMPT_MAX_LENGTH,
        required=False,
        strip=False,
        help_text=_("How the agent behaves: its role, style, and what it must and must not do."),
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    temperature = forms.DecimalField(
        label=_("Temperature"),
        min_value=validation.TEMPERATURE_MIN,
        max_value=validation.TEMPERATURE_MAX,
        decimal_places=2,
        initial=validation.DEFAULT_TEMPERATURE,
        help_text=_("0 gives focused answers, 2 very creative ones."),
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        error_messages={
            "min_value": _("The temperature goes from 0 to 2."),
            "max_value": _("The temperature goes from 0 to 2."),
        },
    )
    max_tokens = forms.IntegerField(
        label=_("Max tokens per answer"),
        min_value=1,
        initial=validation.DEFAULT_MAX_TOKENS,
        help_text=_("The longest answer, in tokens; each model has its own limit."),
        error_messages={"min_value": _("An answer needs at least 1 token.")},
    )

    def __init__(self, *args, agent: Agent | None = None, user=None, **kwargs):
        self.agent = agent
        self.knowledge_owner_id = self._knowledge_owner_id(agent, user)
        knowledge = validation.knowledge_of(agent) if agent is not None else validation.Knowledge()
        if agent is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": agent.name,
                "slug": agent.slug,
                "description": agent.description,
                "category": agent.category,
                "model": agent.model,
                "system_prompt": agent.system_prompt,
                "temperature": agent.temperature,
                "max_tokens": agent.max_tokens,
                "knowledge_collections": list(knowledge.collections),
                "knowledge_documents": list(knowledge.documents),
            }
        super().__init__(*args, **kwargs)
        if self.knowledge_owner_id:
            self._add_knowledge_fields(knowledge)
        choices, unavailable = _model_choices()
        self.fields["model"].choices = choices
        self.fields["model"].widget = ModelSelect(choices=choices, disabled_values=unavailable)
        largest = max((m.max_output_tokens for m in registry.all_models()), default=None)
        if largest:
            self.fields["max_tokens"].widget.attrs["max"] = largest
        if agent is not None and agent.model in unavailable:
            self.fields["model"].help_text = _(
                "The current model, %(model)s, is unavailable: choose another one to save changes."
            ) % {"model": agent.model}

    @staticmethod
    def _knowledge_owner_id(agent: Agent | None, user) -> str:
        acting = str(user.id) if user is not None else current_context()[0]
        owner = str(agent.created_by_id) if agent is not None else acting
        return acting if acting and acting == owner else ""

    def _add_knowledge_fields(self, current: validation.Knowledge) -> None:
        with tenant(self.knowledge_owner_id):
            names = collections_for_user_id(self.knowledge_owner_id)
            documents = library_documents_for_choice(self.knowledge_owner_id)
        # A chosen collection stays listed after its last document left it, so it can be unticked.
        names = sorted(set(names) | set(current.collections))
        self.fields["knowledge_collections"] = forms.MultipleChoiceField(
            label=_("Collections"),
            required=False,
            choices=[(name, name) for name in names],
            widget=forms.CheckboxSelectMultiple(attrs={"class": "knowledge-choices"}),
            help_text=_("Answers use only the documents in these collections. For anyone else who uses this "
                        "agent, their own documents in collections of the same names.")
            if names else _("You have no collections yet: give documents a collection on the Documents pages."),
            error_messages={"invalid_choice": _("Choose collections from the list.")},
        )
        self.fields["knowledge_documents"] = forms.MultipleChoiceField(
            label=_("Documents"),
            required=False,
            choices=documents,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "knowledge-choices"}),
            help_text=_("Answers also use these documents of yours. They are yours alone: for anyone else, "
                        "the agent reads none of them.")
            if documents else _("You have no documents yet."),
            error_messages={"invalid_choice": _("Choose documents of your own library from the list.")},
        )

    @property
    def settings_part(self) -> _FieldGroup:
        return _FieldGroup(self, KNOWLEDGE_FIELDS, inside=False)

    @property
    def knowledge_part(self) -> _FieldGroup:
        return _FieldGroup(self, KNOWLEDGE_FIELDS, inside=True)

    def clean_knowledge_collections(self) -> list[str]:
        chosen = self.cleaned_data["knowledge_collections"]
        if len(chosen) > validation.KNOWLEDGE_MAX_COLLECTIONS:
            raise forms.ValidationError(_("Choose at most %(limit)s collections."),
                                        params={"limit": validation.KNOWLEDGE_MAX_COLLECTIONS})
        return chosen

    def clean_knowledge_documents(self) -> list[str]:
        chosen = self.cleaned_data["knowledge_documents"]
        if len(chosen) > validation.KNOWLEDGE_MAX_DOCUMENTS:
            raise forms.ValidationError(_("Choose at most %(limit)s documents."),
                                        params={"limit": validation.KNOWLEDGE_MAX_DOCUMENTS})
        return chosen

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the agent a name."), code="required")
        return name

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        if not slug:
            return ""
        validation.check_slug(slug)
        # Whether another agent has it is the service's to say: only agents the person can see
        # may be named (a private agent's slug must not reveal that it exists).
        return slug

    def clean_model(self) -> str:
        model = self.cleaned_data["model"]
        if not registry.is_available(model):
            raise forms.ValidationError(_("This model is not available: its provider is not configured."), code="unavailable")
        return model

    def clean(self):
        cleaned = super().clean()
        info = registry.get_model(cleaned.get("model") or "")
        max_tokens = cleaned.get("max_tokens")
        if info is not None and max_tokens is not None and max_tokens > info.max_output_tokens:
            self.add_error("max_tokens", forms.ValidationError(validation.max_tokens_limit_message(info), code="max_value"))
        return cleaned

    def service_kwargs(self) -> dict:
        """The cleaned values, named as ``agent_create`` and ``agent_update`` take them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "slug": data["slug"] or None,
            "description": data["description"],
            "category": data["category"],
            "model": data["model"],
            "system_prompt": data["system_prompt"],
            "temperature": data["temperature"],
            "max_tokens": data["max_tokens"],
        } | ({"knowledge": validation.Knowledge(collections=tuple(data["knowledge_collections"]),
                                                documents=tuple(data["knowledge_documents"]))}
             if "knowledge_collections" in self.fields else {})


class GrantForm(forms.Form):
    email = forms.EmailField(
        label=_("Email of the person to grant"),
        validators=[email_shape_validator],
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class VisibilityForm(forms.Form):
    """Public or private; a hidden field of the buttons on the access page."""

    public = forms.TypedChoiceField(choices=[("1", "public"), ("0", "private")], coerce=lambda v: v == "1")
