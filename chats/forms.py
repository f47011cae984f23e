from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agents import registry
from core.text import strip_control_chars

from . import overrides


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
    # The question's model and temperature (chats.overrides), within what the agent allows. Left
    # out of the post, the agent's own settings answer.
    model = forms.ChoiceField(
        label=_("Model"),
        required=False,
        error_messages={"invalid_choice": _("This agent cannot answer with that model. Choose one of the listed models.")},
    )
    temperature = forms.DecimalField(
        label=_("Temperature"),
        required=False,
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": str(overrides.TEMPERATURE_STEP), "inputmode": "decimal"}),
        error_messages={
            "invalid": _("The temperature is a number, such as 0.7."),
            "max_digits": _("The temperature is a number, such as 0.7."),
            "max_whole_digits": _("The temperature is a number, such as 0.7."),
            "max_decimal_places": _("Give the temperature with at most two decimals."),
        },
    )

    def __init__(self, *args, agent=None, **kwargs):
        """``agent``: the one answering; without it the form takes the text only."""
        super().__init__(*args, **kwargs)
        self.agent = agent
        if agent is None:
            del self.fields["model"], self.fields["temperature"]
            return
        self.model_choices = [(info.id, info.label) for info in overrides.allowed_models(agent)]
        if agent.model not in {value for value, _label in self.model_choices}:
            # The agent's own model with its provider not configured: named, so it can be kept.
            self.model_choices.insert(0, (agent.model, _("%(label)s (unavailable)") % {"label": registry.display_name(agent.model)}))
        self.fields["model"].choices = self.model_choices
        low, high = overrides.temperature_range(agent)
        self.temperature_range = (low, high)
        self.fields["temperature"].widget.attrs.update({"min": str(low), "max": str(high)})
        self.fields["temperature"].help_text = overrides.temperature_range_message(agent)

    @property
    def offers_model(self) -> bool:
        """More than one model to pick from: the composer shows the choice."""
        return self.agent is not None and len(self.model_choices) > 1

    @property
    def offers_temperature(self) -> bool:
        return self.agent is not None and self.temperature_range[0] < self.temperature_range[1]

    def clean_temperature(self):
        value = self.cleaned_data.get("temperature")
        if value is not None and self.agent is not None:
            low, high = self.temperature_range
            if not low <= value <= high:
                raise forms.ValidationError(overrides.temperature_range_message(self.agent), code="out_of_range")
        return value

    def overrides(self) -> dict:
        """The posted choice, as ``services.message_post`` and ``conversation_start`` take it."""
        if self.agent is None:
            return {}
        return {"model": self.cleaned_data.get("model") or "", "temperature": self.cleaned_data.get("temperature")}

    def error_list(self) -> list[str]:
        """Every error of the post, the message's first (for the JSON answer and the composer)."""
        return [str(error) for name in ("content", "model", "temperature", "__all__") for error in self.errors.get(name, [])]


class RenameForm(forms.Form):
    title = TextField(label=_("Title"), max_length=200, strip=True)


class SearchForm(forms.Form):
    q = TextField(label=_("Search your conversations"), max_length=200, required=False, strip=True)
