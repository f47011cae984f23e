"""The model registry: which models exist, who serves them, their context windows and prices.

Read from ``model_registry.json`` (versioned with the code) or from ``MODEL_REGISTRY_PATH``.
A model is *available* when its provider is configured; unavailable models are shown as such and
never offered for a new conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy, gettext_noop

DEFAULT_PATH = Path(__file__).with_name("model_registry.json")

# Labels that are words rather than product names: shown in the reader's language.
WORD_LABELS = frozenset({
    gettext_noop("Offline model (built in)"),
    gettext_noop("Llama 3.1 8B (OpenAI-compatible server)"),
})


def _label(text: str) -> str:
    return gettext_lazy(text) if text in WORD_LABELS else text


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    label: str  # a lazy translation for WORD_LABELS, so it follows the reader's language
    context_window: int
    max_output_tokens: int
    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, tokens_input: int, tokens_output: int) -> tuple[Decimal, Decimal]:
        million = Decimal(1_000_000)
        return (
            (self.input_per_million * tokens_input / million).quantize(Decimal("0.000001")),
            (self.output_per_million * tokens_output / million).quantize(Decimal("0.000001")),
        )


@lru_cache(maxsize=1)
def _load() -> tuple[ModelInfo, ...]:
    path = Path(getattr(settings, "MODEL_REGISTRY_PATH", "") or DEFAULT_PATH)
    data = json.loads(path.read_text())
    return tuple(
        ModelInfo(
            id=m["id"],
            provider=m["provider"],
            label=_label(m.get("label", m["id"])),
            context_window=int(m["context_window"]),
            max_output_tokens=int(m.get("max_output_tokens", 4096)),
            input_per_million=Decimal(str(m["input_per_million"])),
            output_per_million=Decimal(str(m["output_per_million"])),
        )
        for m in data["models"]
    )


def all_models() -> tuple[ModelInfo, ...]:
    return _load()


def get_model(model_id: str) -> ModelInfo | None:
    return next((m for m in _load() if m.id == model_id), None)


def provider_configured(provider: str) -> bool:
    if provider == "offline":
        return True
    if provider == "openai":
        return bool(getattr(settings, "OPENAI_API_KEY", "") or getattr(settings, "OPENAI_BASE_URL", ""))
    if provider == "anthropic":
        return bool(getattr(settings, "ANTHROPIC_API_KEY", ""))
    return False


def is_available(model_id: str) -> bool:
    info = get_model(model_id)
    return info is not None and provider_configured(info.provider)


def available_models() -> list[ModelInfo]:
    return [m for m in _load() if provider_configured(m.provider)]


def display_name(model_id: str) -> str:
    """A model as people see it: the registry's friendly name (in the reader's language when it is
    a word-like label), or the id itself for a model the registry does not know (an old row)."""
    info = get_model(model_id or "")
    return str(info.label) if info is not None else (model_id or "")
