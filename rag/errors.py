"""The RAG domain's refusals and failures. Each message is safe to show to the document's owner
(``core.errors.UserFacingError``): views and tasks catch that one type and show or store ``message``."""

from __future__ import annotations

from core.errors import UserFacingError


class DocumentError(UserFacingError):
    """A document cannot be added, re-indexed or deleted now."""


class ExtractionError(UserFacingError):
    """The document cannot be turned into text."""


class LimitExceeded(ExtractionError):
    """Extraction stopped at a cap; ``kind`` is "characters", "unpacked", "ratio", "pages" or "time"."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind


class FetchError(UserFacingError):
    """The page could not be fetched."""


class UnsafeURLError(FetchError):
    """The URL (or a redirect) points somewhere the server must not go."""


class EmbeddingError(UserFacingError):
    """An embedder cannot run or its service failed.

    ``retryable`` is false when only a change of configuration helps (an unknown or retired
    embedder): the indexing task then fails the document at once instead of retrying.
    """

    def __init__(self, message=None, *args, retryable: bool = True):
        super().__init__(message, *args)
        self.retryable = retryable


class VectorStoreError(UserFacingError):
    """A vector-store operation failed.

    ``retryable`` is true when trying again later may succeed (host unreachable, rate limit,
    server error), false when the request itself or the configuration must change.
    """

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class PermanentIndexingError(UserFacingError):
    """Indexing failed in a way retrying will not fix."""
