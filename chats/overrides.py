"""Per-question model and temperature: what an agent lets a person pick in the composer.

The conversation's columns are fixed by the ERD, so a choice is kept on the person's message
(``metadata["model"]``, ``metadata["temperature"]``) and the turn answering that message uses it;
the composer starts from the conversation's last used values.

What an agent allows is read from its ``config``:

- ``allowed_models``: a list of model ids. Absent, every *configured* model of the registry (the
  ones the agent's owner could pick on the agent form). Present, only those of them that are
  configured, plus the agent's own model. An empty list: the agent's own model only.
- ``temperature_range``: ``[low, high]`` inside the registry's limits (0 to 2); absent or not a
  valid pair, the whole 0 to 2.

A choice is checked when it is posted (the form, then the service for any other caller) and again
when the turn is built: one the agent no longer allows falls back to the agent's own setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import gettext as _

from agents import registry
from agents.validation import TEMPERATURE_MAX, TEMPERATURE_MIN

from .errors import ChatError

TEMPERATURE_STEP = Decimal("0.05")


def _config(agent) -> dict:
    return agent.config if isinstance(agent.config, dict) else {}


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def allowed_models(agent) -> list[registry.ModelInfo]:
    """The models a person may pick for a question to this agent, the agent's own model first."""
    configured = registry.available_models()
    listed = _config(agent).get("allowed_models")
    if isinstance(listed, list):
        wanted = {str(model_id) for model_id in listed} | {agent.model}
        configured = [info for info in configured if info.id in wanted]
    return sorted(configured, key=lambda info: info.id != agent.model)


def allowed_model_ids(agent) -> frozenset[str]:
    """Ids a question may name: the allowed models, and always the agent's own model (the turn
    answers with it anyway, and says so when its provider is not configured)."""
    return frozenset(info.id for info in allowed_models(agent)) | {agent.model}


def temperature_range(agent) -> tuple[Decimal, Decimal]:
    """The lowest and highest temperature a question to this agent may ask for."""
    pair = _config(agent).get("temperature_range")
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        low, high = _decimal(pair[0]), _decimal(pair[1])
        if low is not None and high is not None:
            low, high = max(low, TEMPERATURE_MIN), min(high, TEMPERATURE_MAX)
            if low <= high:
                return low, high
    return TEMPERATURE_MIN, TEMPERATURE_MAX


def _agent_temperature(agent) -> Decimal:
    low, high = temperature_range(agent)
    own = _decimal(_config(agent).get("temperature", 0.7))
    own = Decimal("0.7") if own is None else own
    return min(max(own, low), high).quantize(Decimal("0.01"))


def _number_text(value: Decimal) -> str:
    """0.5 as "0.5" (or "0,5" in Spanish), 2.00 as "2"."""
    return formats.number_format(Decimal(format(value.normalize(), "f")), use_l10n=True)


def temperature_range_message(agent) -> str:
    low, high = temperature_range(agent)
    return _("For this agent the temperature goes from %(low)s to %(high)s.") % {
        "low": _number_text(low), "high": _number_text(high),
    }


def checked(agent, *, model: str = "", temperature=None) -> dict:
    """The override as stored on the question (only what was given), or ``ChatError`` when the
    agent does not allow it."""
    chosen: dict = {}
    if model:
        if model not in allowed_model_ids(agent):
            raise ChatError(_("This agent cannot answer with that model. Choose one of the listed models."))
        chosen["model"] = model
    if temperature is not None and temperature != "":
        number = _decimal(temperature)
        if number is None:
            raise ChatError(_("The temperature is a number, such as 0.7."))
        low, high = temperature_range(agent)
        if not low <= number <= high:
            raise ChatError(temperature_range_message(agent))
        chosen["temperature"] = float(number)
    return chosen


@dataclass(frozen=True)
class TurnSettings:
    model: str
    temperature: float


def turn_settings(agent, user_message) -> TurnSettings:
    """The model and temperature answering ``user_message``: its override while the agent still
    allows it, the agent's own setting otherwise."""
    metadata = user_message.metadata if isinstance(user_message.metadata, dict) else {}
    model = metadata.get("model")
    if not isinstance(model, str) or model not in allowed_model_ids(agent):
        model = agent.model
    temperature = _decimal(metadata.get("temperature"))
    low, high = temperature_range(agent)
    if temperature is None or not low <= temperature <= high:
        return TurnSettings(model=model, temperature=float(_agent_temperature(agent)))
    return TurnSettings(model=model, temperature=float(temperature))


def composer_initial(agent, history=()) -> dict:
    """What the composer starts from: the conversation's last question's choice while the agent
    still allows it, the agent's own settings otherwise."""
    last = next((m for m in reversed(list(history)) if m.role == "user"), None)
    if last is not None:
        settings = turn_settings(agent, last)
        model, temperature = settings.model, _decimal(settings.temperature)
    else:
        model, temperature = agent.model, None
    allowed = allowed_model_ids(agent)
    if model not in allowed:
        model = agent.model
    low, high = temperature_range(agent)
    if temperature is None or not low <= temperature <= high:
        temperature = _agent_temperature(agent)
    return {"model": model, "temperature": temperature.quantize(Decimal("0.01"))}


def model_in_use(agent, history=()) -> str:
    """The model the conversation last answered with (or will answer with next), for its header."""
    return composer_initial(agent, history)["model"]
