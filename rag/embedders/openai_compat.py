"""OpenAI embeddings, and any OpenAI-compatible server (Ollama, vLLM, ...), through the ``openai`` SDK."""

from __future__ import annotations

import threading

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import EmbeddingError
from .base import Embedder, normalise_rows


class OpenAIEmbedder(Embedder):
    name = "openai"

    KNOWN_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
    MAX_BATCH = 256

    def __init__(self, *, model: str | None = None, api_key: str | None = None, base_url: str | None = None,
                 batch_size: int = MAX_BATCH, timeout: float | None = None, max_retries: int = 2):
        self.model = model or settings.OPENAI_EMBEDDING_MODEL
        self.api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        self.base_url = settings.OPENAI_BASE_URL if base_url is None else base_url
        self.batch_size = max(1, min(batch_size, self.MAX_BATCH))
        self.timeout = settings.LLM_TIMEOUT_SECONDS if timeout is None else timeout
        self.max_retries = max_retries
        self._dimension: int | None = self.KNOWN_DIMENSIONS.get(self.model)
        self._client = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:
            self.embed_query("dimension")  # learns it from the first answer
        return self._dimension  # type: ignore[return-value]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for offset in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(texts[offset:offset + self.batch_size]))
        return vectors

    def _client_or_error(self):
        if not self.api_key and not self.base_url:
            raise EmbeddingError(_("OpenAI embeddings are not configured: set OPENAI_API_KEY."))
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    api_key=self.api_key or "not-needed",  # compatible servers (Ollama, vLLM) often take none
                    base_url=self.base_url or None,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
        return self._client

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        import openai

        client = self._client_or_error()
        # The API rejects empty strings; a space embeds as "nothing" without failing the batch.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            response = client.embeddings.create(model=self.model, input=inputs, encoding_format="float")
        except openai.AuthenticationError:
            raise EmbeddingError(_("The embedding service refused the API key (OPENAI_API_KEY).")) from None
        except openai.RateLimitError:
            raise EmbeddingError(_("The embedding service is rate limiting requests; try again later.")) from None
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                _("The embedding service answered with an error (HTTP %(status)s): %(detail)s")
                % {"status": exc.status_code, "detail": _error_detail(exc)}
            ) from None
        except openai.APIConnectionError:
            raise EmbeddingError(_("The embedding service could not be reached.")) from None
        except openai.OpenAIError as exc:
            raise EmbeddingError(_("The embedding service failed: %(detail)s") % {"detail": exc}) from None
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(inputs):
            raise EmbeddingError(
                _("The embedding service returned %(got)s vectors for %(sent)s texts.")
                % {"got": len(data), "sent": len(inputs)}
            )
        matrix = np.asarray([item.embedding for item in data], dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise EmbeddingError(_("The embedding service returned malformed vectors."))
        if self._dimension is None:
            self._dimension = matrix.shape[1]
        elif matrix.shape[1] != self._dimension:
            raise EmbeddingError(
                _("The embedding service returned vectors of size %(got)s, expected %(expected)s.")
                % {"got": matrix.shape[1], "expected": self._dimension}
            )
        return normalise_rows(matrix).tolist()


def _error_detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(getattr(exc, "message", "") or exc)
