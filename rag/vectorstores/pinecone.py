"""The Pinecone vector store: the data plane of one dense index, through the ``pinecone`` SDK (v10).

Only the data plane is used: the index host comes from ``PINECONE_INDEX_HOST`` (as shown in the
Pinecone console), so no control-plane request is ever made. The SDK speaks REST over httpx to
that host: a bare host or ``https://`` uses TLS, ``http://`` is kept as given (local fakes and
Pinecone Local). Every request carries ``Api-Key`` and ``X-Pinecone-Api-Version``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from pinecone import Pinecone
from pinecone.errors.exceptions import (
    ApiError,
    ForbiddenError,
    PayloadTooLargeError,
    PineconeConnectionError,
    PineconeError,
    PineconeTimeoutError,
    PineconeTypeError,
    PineconeValueError,
    RateLimitError,
    ServiceError,
    UnauthorizedError,
)

from rag.errors import VectorStoreError
from rag.vectorstores.base import (
    VectorMatch,
    VectorRecord,
    VectorStore,
    batched,
    build_filter,
    document_filter,
    require_namespace,
)

if TYPE_CHECKING:
    from pinecone.index import Index

T = TypeVar("T")

UPSERT_BATCH_SIZE = 100  # Pinecone's advice per upsert request (the hard cap is 1000)
UPSERT_MAX_BYTES = 1_900_000  # under the 2 MB request cap, with room for the envelope
DELETE_BATCH_SIZE = 1000  # Pinecone's cap on ids per delete request
PROBE_TIMEOUT = 3.0  # seconds; check() must answer quickly even when the host is down

# One data-plane client per (key, host, timeout) per process: building one costs ~40 ms (TLS
# contexts) and reusing it keeps connections alive between queries. httpx clients are thread-safe.
_clients: dict[tuple[str, str, float], Index] = {}
_clients_lock = threading.Lock()


def _forget_clients_in_child() -> None:
    # A forked worker must not share the parent's sockets: it opens its own on first use.
    _clients.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_clients_in_child)


def _index_client(api_key: str, host: str, timeout: float) -> Index:
    key = (api_key, host, timeout)
    with _clients_lock:
        index = _clients.get(key)
        if index is None:
            with Pinecone(api_key=api_key, timeout=timeout) as pc:  # control plane unused: close it
                index = pc.index(host=host)
            _clients[key] = index
        return index


def close_clients() -> None:
    """Close every cached data-plane client (tests, and processes that are shutting down)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for index in clients:
        index.close()


def _record_size(record: dict) -> int:
    # default=str: an unencodable value is the SDK's to reject, with its own message
    return len(json.dumps(record, separators=(",", ":"), default=str).encode()) + 1  # + the comma


def upsert_batches(records: list[dict]) -> list[list[dict]]:
    """Split wire-format vectors into requests of at most 100 vectors and about 1.9 MB each."""
    batches: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for record in records:
        record_size = _record_size(record)
        if record_size > UPSERT_MAX_BYTES:
            raise VectorStoreError(
                _("Vector %(id)s is too large for Pinecone (%(size)d bytes with its metadata): "
                  "shorten its metadata.") % {"id": record["id"], "size": record_size}
            )
        if current and (len(current) >= UPSERT_BATCH_SIZE or size + record_size > UPSERT_MAX_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(record)
        size += record_size
    if current:
        batches.append(current)
    return batches


class PineconeStore(VectorStore):
    name = "pinecone"

    def __init__(self, *, api_key: str | None = None, host: str | None = None,
                 dimension: int | None = None, timeout: float = 30.0, embedder: str | None = None):
        """``api_key`` and ``host`` default to the settings; ``dimension`` is what the embedder produces;
        ``embedder``, when given, limits queries to vectors that embedder made."""
        self.embedder = embedder
        self.api_key = ((settings.PINECONE_API_KEY if api_key is None else api_key) or "").strip()
        self.host = ((settings.PINECONE_INDEX_HOST if host is None else host) or "").strip().rstrip("/")
        self.dimension = dimension
        self.timeout = timeout

    # --- operations ---

    def upsert(self, *, namespace: str, records: list[VectorRecord]) -> None:
        require_namespace(namespace)
        if not records:
            return
        self._check_dimensions(records)
        vectors = [{"id": r.id, "values": [float(v) for v in r.values], "metadata": dict(r.metadata)}
                   for r in records]
        batches = upsert_batches(vectors)

        def work(index: Index) -> None:
            for batch in batches:
                index.upsert(vectors=batch, namespace=namespace)

        self._run(_("store vectors"), work)

    def query(self, *, namespace: str, vector: list[float], top_k: int,
              collections: list[str] | None = None, tags: list[str] | None = None) -> list[VectorMatch]:
        require_namespace(namespace)
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.dimension is not None and len(vector) != self.dimension:
            raise VectorStoreError(self._dimension_message(len(vector)))
        expression = build_filter(collections, tags)
        if self.embedder:
            by_embedder = {"embedder": {"$eq": self.embedder}}
            expression = {"$and": [expression, by_embedder]} if expression else by_embedder

        def work(index: Index) -> list[VectorMatch]:
            response = index.query(vector=[float(v) for v in vector], top_k=top_k, namespace=namespace,
                                   filter=expression, include_metadata=True)
            return [VectorMatch(id=m.id, score=float(m.score), metadata=dict(m.metadata or {}))
                    for m in response.matches]

        return self._run(_("search vectors"), work)

    def delete(self, *, namespace: str, ids: list[str]) -> None:
        require_namespace(namespace)
        unique_ids = list(dict.fromkeys(ids))
        if not unique_ids:
            return

        def work(index: Index) -> None:
            for batch in batched(unique_ids, DELETE_BATCH_SIZE):
                index.delete(ids=batch, namespace=namespace)

        self._run(_("delete vectors"), work)

    def delete_document(self, *, namespace: str, document_id: str, ids: list[str] | None = None) -> None:
        require_namespace(namespace)
        # Known ids first (exact and cheap), then the metadata filter, which also catches vectors
        # a previous, interrupted indexing run wrote without recording their ids.
        self.delete(namespace=namespace, ids=list(ids or []))
        self._run(_("delete a document's vectors"),
                  lambda index: index.delete(filter=document_filter(document_id), namespace=namespace))

    def stats(self) -> dict:
        response = self._run(_("read index statistics"), lambda index: index.describe_index_stats())
        return {
            "dimension": response.dimension,
            "total_vector_count": response.total_vector_count,
            "namespaces": {name: summary.vector_count for name, summary in response.namespaces.items()},
        }

    def check(self) -> list[str]:
        problems = self._configuration_problems()
        if problems:
            return problems
        try:
            self._index()
        except PineconeError as exc:
            # The SDK validates the key's characters and the host's shape before any request.
            return [_("The Pinecone settings (PINECONE_API_KEY, PINECONE_INDEX_HOST) are not usable: %(detail)s")
                    % {"detail": _detail(exc)}]
        if reason := self._probe():
            return [self._unreachable_message(reason)]
        try:
            stats = self.stats()
        except VectorStoreError as exc:
            return [exc.message]
        actual = stats["dimension"]
        if self.dimension is not None and actual is not None and actual != self.dimension:
            return [_("The Pinecone index has dimension %(actual)s, but the embedding model produces "
                      "%(expected)d-dimensional vectors: use an index created with dimension %(expected)d, "
                      "or an embedding model of dimension %(actual)s.")
                    % {"actual": actual, "expected": self.dimension}]
        return []

    # --- plumbing ---

    def _configuration_problems(self) -> list[str]:
        problems = []
        if not self.api_key:
            problems.append(_("PINECONE_API_KEY is not set: the Pinecone vector store needs an API key."))
        if not self.host:
            problems.append(_("PINECONE_INDEX_HOST is not set: give the host of the Pinecone index, "
                              "as shown in the Pinecone console."))
        return problems

    def _index(self) -> Index:
        problems = self._configuration_problems()
        if problems:
            raise VectorStoreError(" ".join(problems))
        return _index_client(self.api_key, self.host, self.timeout)

    def _run(self, action: str, work: Callable[[Index], T]) -> T:
        """Run SDK calls, turning the SDK's errors into a VectorStoreError that says what went wrong."""
        try:
            return work(self._index())
        except VectorStoreError:
            raise
        except PineconeError as exc:
            raise self._translate(exc, action) from exc

    def _translate(self, exc: PineconeError, action: str) -> VectorStoreError:
        detail = _detail(exc)
        if isinstance(exc, (UnauthorizedError, ForbiddenError)):
            return VectorStoreError(_("Pinecone rejected the API key (PINECONE_API_KEY) while trying to %(action)s: "
                                      "%(detail)s") % {"action": action, "detail": detail})
        if isinstance(exc, (PineconeConnectionError, PineconeTimeoutError)):
            return VectorStoreError(self._unreachable_message(detail), retryable=True)
        if isinstance(exc, (RateLimitError, ServiceError)):
            return VectorStoreError(_("Pinecone is busy or failing and could not %(action)s; try again later: "
                                      "%(detail)s") % {"action": action, "detail": detail}, retryable=True)
        if isinstance(exc, PayloadTooLargeError):
            return VectorStoreError(_("The request to %(action)s was too large for Pinecone: %(detail)s")
                                    % {"action": action, "detail": detail})
        if isinstance(exc, ApiError) and "dimension" in detail.lower():
            return VectorStoreError(_("Pinecone refused to %(action)s because the vector size does not fit the "
                                      "index: %(detail)s. The embedding model and the index must have the same "
                                      "dimension.") % {"action": action, "detail": detail})
        if isinstance(exc, (PineconeValueError, PineconeTypeError)):
            return VectorStoreError(_("Invalid data for Pinecone, could not %(action)s: %(detail)s")
                                    % {"action": action, "detail": detail})
        return VectorStoreError(_("Pinecone could not %(action)s: %(detail)s")
                                % {"action": action, "detail": detail})

    def _check_dimensions(self, records: list[VectorRecord]) -> None:
        # Fail before anything is sent rather than halfway through the batches.
        expected = self.dimension if self.dimension is not None else len(records[0].values)
        for record in records:
            if len(record.values) != expected:
                raise VectorStoreError(self._dimension_message(len(record.values), record_id=record.id))

    def _dimension_message(self, actual: int, record_id: str | None = None) -> str:
        if self.dimension is None:
            return _("Vector %(id)s has %(actual)d dimensions, unlike the others in the same batch.") % {
                "id": record_id, "actual": actual}
        return _("A vector has %(actual)d dimensions but this Pinecone store expects %(expected)d: the embedding "
                 "model and the index must have the same dimension.") % {
            "actual": actual, "expected": self.dimension}

    def _unreachable_message(self, reason: str) -> str:
        return _("The Pinecone index host %(host)s cannot be reached: %(reason)s") % {
            "host": self.host, "reason": reason}

    def _probe(self) -> str:
        """A quick TCP connect to the host ("" when it answers): the SDK retries for seconds first."""
        parts = urlsplit(self.host if "://" in self.host else f"https://{self.host}")
        try:
            port = parts.port or (80 if parts.scheme == "http" else 443)
        except ValueError as exc:
            return str(exc)
        if not parts.hostname:
            return _("the host name is missing")
        try:
            with socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT):
                return ""
        except OSError as exc:
            return exc.strerror or str(exc) or type(exc).__name__


def _detail(exc: PineconeError) -> str:
    return (getattr(exc, "message", "") or str(exc) or type(exc).__name__).strip()
