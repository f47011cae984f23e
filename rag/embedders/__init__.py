"""Text embedders behind one interface: the static token table (default), OpenAI,
sentence-transformers; one module each.

Every embedder returns L2-normalised vectors, so cosine similarity is a dot product. Pick one with
``get_embedder(name)`` (default ``settings.EMBEDDER``); ``available_embedders()`` tells which can
run here and why the others cannot. A name in ``RETIRED`` (an embedder that was removed) is refused
with what to do instead, by ``get_embedder`` and by the system check ``rag.E002``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..errors import EmbeddingError
from .base import Embedder
from .openai_compat import OpenAIEmbedder
from .sentence_transformers import (
    SentenceTransformerEmbedder,
    find_model_dir,
    resolve_sentence_transformers_model,
    sentence_transformers_missing,
)
from .static import StaticEmbedder

__all__ = [
    "EMBEDDERS",
    "RETIRED",
    "Embedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "available_embedders",
    "embedder_problem",
    "find_model_dir",
    "get_embedder",
    "normalise_name",
    "retired_embedder_message",
    "reset_embedders",
]

EMBEDDERS: dict[str, type[Embedder]] = {
    StaticEmbedder.name: StaticEmbedder,
    OpenAIEmbedder.name: OpenAIEmbedder,
    SentenceTransformerEmbedder.name: SentenceTransformerEmbedder,
}

# Embedders that were removed: name -> what it was. Documents they indexed keep their text (full-text
# search finds them) but their vectors are never searched again; re-indexing gives them new ones.
RETIRED: dict[str, str] = {
    "offline": gettext_noop("feature hashing"),  # retired in issue 08: the static embedder is better in every mode
}

_instances: dict[str, Embedder] = {}
_instances_lock = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default ``settings.EMBEDDER``), one shared instance per name."""
    key = normalise_name(name or settings.EMBEDDER or StaticEmbedder.name)
    if key in RETIRED:
        raise EmbeddingError(retired_embedder_message(key), retryable=False)
    if key not in EMBEDDERS:
        raise EmbeddingError(_unknown_embedder_message(key), retryable=False)
    with _instances_lock:
        if key not in _instances:
            _instances[key] = EMBEDDERS[key]()
        return _instances[key]


def normalise_name(name: str) -> str:
    return name.strip().lower()


def _unknown_embedder_message(name: str) -> str:
    return _("Unknown embedder %(name)s. Choose one of: %(names)s.") % {"name": name, "names": ", ".join(EMBEDDERS)}


def embedder_problem(name: str) -> str | None:
    """Why the embedder called ``name`` cannot be used here (retired, unknown, or not available),
    or None when it can; for the commands that take ``--embedder``."""
    key = normalise_name(name)
    if key in RETIRED:
        return retired_embedder_message(key)
    if key not in EMBEDDERS:
        return _unknown_embedder_message(key)
    return available_embedders()[key]


def retired_embedder_message(name: str) -> str:
    """What to do about a retired embedder's name (in ``EMBEDDER``, or asked for)."""
    return _("The %(what)s embedder (%(name)s) was retired. Set EMBEDDER=static (the default) and run "
             "manage.py reindex_rag --embedder static so that the documents indexed with it get vectors "
             "again; until then full-text search still finds them.") % {"what": _(RETIRED[name]), "name": name}


def available_embedders() -> dict[str, str | None]:
    """Each embedder's name mapped to why it cannot run here, or None when it can."""
    reasons: dict[str, str | None] = {
        StaticEmbedder.name: None if StaticEmbedder.TABLE.exists() else _("The built-in embedding table is missing."),
    }
    reasons[OpenAIEmbedder.name] = (
        None if settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL
        else _("Set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server).")
    )
    if not _module_available("sentence_transformers"):
        reasons[SentenceTransformerEmbedder.name] = sentence_transformers_missing()
    else:
        try:
            resolve_sentence_transformers_model()
            reasons[SentenceTransformerEmbedder.name] = None
        except EmbeddingError as exc:
            reasons[SentenceTransformerEmbedder.name] = exc.message
    return reasons


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module already imported without a spec (or a broken parent)
        return sys.modules.get(name) is not None


def reset_embedders() -> None:
    """Forget the shared instances (settings changed)."""
    with _instances_lock:
        _instances.clear()


_EMBEDDER_SETTINGS = {"EMBEDDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_EMBEDDING_MODEL",
                      "SENTENCE_TRANSFORMERS_MODEL", "LLM_TIMEOUT_SECONDS"}


def _on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in _EMBEDDER_SETTINGS:
        reset_embedders()


setting_changed.connect(_on_setting_changed)
