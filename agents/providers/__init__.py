"""Language-model providers behind one interface (see ``base.Provider``).

    provider = provider_for_model("gpt-4o-mini")
    for event in provider.stream(model="gpt-4o-mini", messages=[...], temperature=0.7, max_tokens=1024):
        ...

Providers read their configuration from Django settings on every call, so they are cheap to
create and always see the current settings.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from agents import registry
from agents.providers.base import (
    ChatMessage,
    Passage,
    Provider,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    StreamEvent,
    Usage,
    format_passages,
)

__all__ = [
    "ChatMessage",
    "Passage",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "StreamEvent",
    "Usage",
    "format_passages",
    "get_provider",
    "provider_for_model",
]


def get_provider(name: str) -> Provider:
    """The provider called ``name``: "openai", "anthropic" or "offline"."""
    # Imported here so that loading this package does not import both SDKs.
    if name == "offline":
        from agents.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "openai":
        from agents.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider()
    if name == "anthropic":
        from agents.providers.anthropic import AnthropicProvider

        return AnthropicProvider()
    raise ValueError(f"Unknown model provider: {name!r}")


def provider_for_model(model_id: str) -> Provider:
    """The provider serving ``model_id`` in the registry; ``ProviderUnavailable`` if it is unknown."""
    info = registry.get_model(model_id)
    if info is None:
        raise ProviderUnavailable(
            _("This model is not available."), detail=f"Model {model_id!r} is not in the registry"
        )
    return get_provider(info.provider)
