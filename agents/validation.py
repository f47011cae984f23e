"""The rules an agent's settings follow, shared by the form (for the person typing) and the services
(for every other caller), so the two can never disagree."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import Agent, Category

NAME_MAX_LENGTH = Agent._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = Agent._meta.get_field("description").max_length
SLUG_MAX_LENGTH = Agent._meta.get_field("slug").max_length
SYSTEM_PROMPT_MAX_LENGTH = 20_000
TEMPERATURE_MIN = Decimal("0")
TEMPERATURE_MAX = Decimal("2")
DEFAULT_TEMPERATURE = Decimal("0.7")
DEFAULT_MAX_TOKENS = 1024

# Path segments under /agents/ that a slug would shadow.
RESERVED_SLUGS = frozenset({"new"})

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
slug_validator = RegexValidator(
    re.compile(SLUG_PATTERN),
    _("Use lowercase letters, digits and single hyphens between them (for example: travel-planner)."),
    code="invalid_slug",
)


def slug_base(name: str) -> str:
    """A slug built from ``name``: ASCII lowercase letters, digits and hyphens; ``agent`` if nothing is left."""
    base = re.sub(r"[^a-z0-9]+", "-", slugify(name).lower()).strip("-")
    # Leave room for a numeric suffix within the column's length.
    return base[: SLUG_MAX_LENGTH - 10].strip("-") or "agent"


def settings_errors(
    *, name: str, category: str, model: str, system_prompt: str, temperature, max_tokens
) -> dict[str, list[str]]:
    """Every problem with these settings, by field name (empty when they are fine)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message) -> None:
        errors.setdefault(field, []).append(str(message))

    if not (name or "").strip():
        add("name", _("Give the agent a name."))
    elif len(name.strip()) > NAME_MAX_LENGTH:
        add("name", _("The name can have at most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH})
    if category not in Category.values:
        add("category", _("Choose one of the listed categories."))
    if len(system_prompt or "") > SYSTEM_PROMPT_MAX_LENGTH:
        add("system_prompt", _("The system prompt can have at most %(limit)s characters.") % {"limit": SYSTEM_PROMPT_MAX_LENGTH})
    info = registry.get_model(model)
    if info is None:
        add("model", _("Choose one of the listed models."))
    elif not registry.is_available(model):
        add("model", _("This model is not available: its provider is not configured."))
    try:
        temperature = Decimal(str(temperature))
        if not TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        add("temperature", _("The temperature goes from 0 to 2."))
    try:
        max_tokens = int(max_tokens)
    except (TypeError, ValueError):
        add("max_tokens", _("Enter a whole number of tokens."))
    else:
        if max_tokens < 1:
            add("max_tokens", _("An answer needs at least 1 token."))
        elif info is not None and max_tokens > info.max_output_tokens:
            add("max_tokens", max_tokens_limit_message(info))
    return errors


def max_tokens_limit_message(info: registry.ModelInfo) -> str:
    return str(
        _("%(model)s answers with at most %(limit)s tokens.") % {"model": info.label, "limit": info.max_output_tokens}
    )


def check_settings(**kwargs) -> None:
    """Raise a ``ValidationError`` keyed by field when :func:`settings_errors` finds anything."""
    errors = settings_errors(**kwargs)
    if errors:
        raise ValidationError(errors)


def check_slug(slug: str) -> None:
    slug_validator(slug)
    if len(slug) > SLUG_MAX_LENGTH:
        raise ValidationError(_("The slug can have at most %(limit)s characters.") % {"limit": SLUG_MAX_LENGTH}, code="max_length")
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("This slug is reserved; choose another."), code="reserved_slug")


def duplicate_slug_error() -> ValidationError:
    return ValidationError({"slug": [ValidationError(_("Another agent already uses this slug."), code="duplicate_slug")]})
