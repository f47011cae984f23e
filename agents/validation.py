"""The rules an agent's settings follow, shared by the form (for the person typing) and the services
(for every other caller), so the two can never disagree."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.tenancy import tenant
from rag.selectors import library_document_ids

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


# --- knowledge: what the agent answers from (config["knowledge"], issue 07 item 9) ----------------

KNOWLEDGE_KEY = "knowledge"
KNOWLEDGE_MAX_COLLECTIONS = 20
KNOWLEDGE_MAX_DOCUMENTS = 50
COLLECTION_NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class Knowledge:
    """The agent's scope: collection names (matched against the chatting person's own documents)
    and document ids (its owner's documents; nobody else's library ever matches them). Empty
    means no scope: the person's whole library."""

    collections: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()

    @property
    def scoped(self) -> bool:
        return bool(self.collections or self.documents)

    def as_config(self) -> dict:
        return {"collections": list(self.collections), "documents": list(self.documents)}


def _uuid_text(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def knowledge_of(config) -> Knowledge:
    """The scope kept in an agent's ``config`` (an Agent or its config dict), read defensively:
    whatever is malformed is left out, never read as "no filter" for what remains."""
    if hasattr(config, "config"):
        config = config.config
    raw = (config or {}).get(KNOWLEDGE_KEY) if isinstance(config, dict) else None
    if not isinstance(raw, dict):
        return Knowledge()
    collections = raw.get("collections") if isinstance(raw.get("collections"), list) else []
    documents = raw.get("documents") if isinstance(raw.get("documents"), list) else []
    names = tuple(dict.fromkeys(c for c in collections if isinstance(c, str) and c.strip()))
    ids = tuple(dict.fromkeys(i for i in (_uuid_text(d) for d in documents) if i))
    if documents and not ids:
        # A document scope whose ids are all unreadable still scopes: to nothing, not to everything.
        ids = ("00000000-0000-0000-0000-000000000000",)
    return Knowledge(collections=names, documents=ids)


def knowledge_errors(*, owner_id, collections, documents) -> dict[str, list[str]]:
    """Problems with a scope the agent's owner chose: collection names well formed, documents the
    owner's own library documents (not attached to a conversation), each list bounded."""
    errors: dict[str, list[str]] = {}
    names = [c for c in collections or []]
    if len(names) > KNOWLEDGE_MAX_COLLECTIONS:
        errors.setdefault("knowledge_collections", []).append(
            str(_("Choose at most %(limit)s collections.") % {"limit": KNOWLEDGE_MAX_COLLECTIONS}))
    if any(not isinstance(c, str) or not c.strip() or len(c) > COLLECTION_NAME_MAX_LENGTH for c in names):
        errors.setdefault("knowledge_collections", []).append(str(_("Choose collections from the list.")))
    ids = list(documents or [])
    if len(ids) > KNOWLEDGE_MAX_DOCUMENTS:
        errors.setdefault("knowledge_documents", []).append(
            str(_("Choose at most %(limit)s documents.") % {"limit": KNOWLEDGE_MAX_DOCUMENTS}))
    elif ids:
        parsed = [_uuid_text(i) for i in ids]
        known = set()
        if all(parsed):
            with tenant(owner_id):
                known = library_document_ids(user_id=owner_id, ids=parsed)
        if not all(parsed) or set(parsed) - known:
            errors.setdefault("knowledge_documents", []).append(
                str(_("Choose documents of your own library from the list.")))
    return errors


def check_knowledge(*, owner_id, knowledge: Knowledge) -> Knowledge:
    """The scope, cleaned (no duplicates, ids in canonical form); ``ValidationError`` by field."""
    errors = knowledge_errors(owner_id=owner_id, collections=list(knowledge.collections),
                              documents=list(knowledge.documents))
    if errors:
        raise ValidationError(errors)
    return Knowledge(collections=tuple(dict.fromkeys(c.strip() for c in knowledge.collections)),
                     documents=tuple(dict.fromkeys(_uuid_text(d) for d in knowledge.documents)))
