"""A fake Pinecone data plane: the REST endpoints of one dense, cosine index, on 127.0.0.1.

It speaks the JSON the real service speaks (camelCase bodies, ``{"code", "message", "details"}``
errors), so the real ``pinecone`` SDK can be pointed at ``server.url`` as the index host::

    with fake_pinecone(dimension=8, api_key="pc-test") as server:
        index = Pinecone(api_key="pc-test").index(host=server.url)

What real Pinecone enforces, the fake enforces too: the index's dimension (fixed when the server
is created), at most 1000 vectors and 2 MB per upsert, a valid ``Api-Key`` header, isolated
namespaces and the metadata filter language. Every request is recorded in ``server.requests``
with its decoded JSON body (``body``) for assertions.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

from testutils.fakes.server import FakeHandler, FakeServer

MAX_UPSERT_VECTORS = 1000
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_TOP_K = 10_000

# gRPC status codes, which Pinecone puts in the "code" field of its error bodies.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
UNAUTHENTICATED = 16


class PineconeRequestError(Exception):
    """A request the real service would refuse: turned into Pinecone's error body."""

    def __init__(self, message: str, *, status: int = 400, code: int = INVALID_ARGUMENT):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# --- metadata filters ---------------------------------------------------------------------------

_COMPARISONS = {"$gt", "$gte", "$lt", "$lte"}
_FIELD_OPERATORS = {"$eq", "$ne", "$in", "$nin", "$exists"} | _COMPARISONS


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _values_equal(left: Any, right: Any) -> bool:
    # Pinecone compares numbers as numbers (1 == 1.0) but never a bool with a number.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return left == right


def _contains(stored: Any, wanted: Any) -> bool:
    """Equality as Pinecone applies it: a list-valued field matches when any element does."""
    if isinstance(stored, list):
        return any(_values_equal(item, wanted) for item in stored)
    return _values_equal(stored, wanted)


def _field_matches(metadata: dict, field: str, condition: Any) -> bool:
    if not isinstance(condition, dict):
        condition = {"$eq": condition}  # {"genre": "drama"} is shorthand for $eq
    if not condition:
        raise PineconeRequestError(f"Empty condition for metadata field '{field}'")
    present = field in metadata
    stored = metadata.get(field)
    for operator, operand in condition.items():
        if operator not in _FIELD_OPERATORS:
            raise PineconeRequestError(f"Unknown operator '{operator}' for metadata field '{field}'")
        if operator == "$exists":
            if not isinstance(operand, bool):
                raise PineconeRequestError("$exists operator must be applied to a boolean")
            matched = present == operand
        elif operator in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise PineconeRequestError(f"{operator} operator must be applied to an array")
            hit = present and any(_contains(stored, item) for item in operand)
            matched = hit if operator == "$in" else not hit
        elif operator in ("$eq", "$ne"):
            if isinstance(operand, (list, dict)) or operand is None:
                raise PineconeRequestError(f"{operator} operator must be applied to a string, number or boolean")
            hit = present and _contains(stored, operand)
            matched = hit if operator == "$eq" else not hit
        else:
            if not _is_number(operand):
                raise PineconeRequestError(f"{operator} operator must be applied to a number")
            if not (present and _is_number(stored)):
                matched = False
            elif operator == "$gt":
                matched = stored > operand
            elif operator == "$gte":
                matched = stored >= operand
            elif operator == "$lt":
                matched = stored < operand
            else:
                matched = stored <= operand
        if not matched:
            return False
    return True


def matches_filter(metadata: dict | None, expression: dict | None) -> bool:
    """Whether a vector's metadata satisfies a Pinecone filter expression (None: everything)."""
    if expression is None:
        return True
    if not isinstance(expression, dict):
        raise PineconeRequestError("Filter must be a JSON object")
    metadata = metadata or {}
    for key, value in expression.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise PineconeRequestError(f"{key} operator must be applied to a non-empty array")
            results = [matches_filter(metadata, part) for part in value]
            if not (all(results) if key == "$and" else any(results)):
                return False
        elif key.startswith("$"):
            raise PineconeRequestError(f"Unknown top-level operator '{key}' in filter")
        elif not _field_matches(metadata, key, value):
            return False
    return True


# --- the index ----------------------------------------------------------------------------------


def _cosine(left: list[float], right: list[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right))
    norms = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    return dot / norms if norms else 0.0


def _validate_metadata(vector_id: str, metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise PineconeRequestError(f"Metadata of vector '{vector_id}' must be an object")
    for field, value in metadata.items():
        if isinstance(value, list):
            if all(isinstance(item, str) for item in value):
                continue
        elif isinstance(value, (str, bool, int, float)) or value is None:
            continue
        raise PineconeRequestError(
            "Metadata value must be a string, number, boolean or list of strings, "
            f"got '{json.dumps(value)}' for field '{field}'"
        )


class FakePinecone(FakeHandler):
    """Request handler; the index lives on the server (``dimension``, ``api_key``, ``namespaces``)."""

    # --- HTTP verbs ---
    def do_POST(self):
        routes = {
            "/vectors/upsert": self._upsert,
            "/query": self._query,
            "/vectors/delete": self._delete,
            "/describe_index_stats": self._describe_index_stats,
        }
        self._dispatch(routes)

    def do_GET(self):
        routes = {
            "/describe_index_stats": self._describe_index_stats,
            "/vectors/fetch": self._fetch,
        }
        self._dispatch(routes)

    # --- plumbing ---
    def _dispatch(self, routes: dict) -> None:
        raw = self.read_body()  # always drain the body so the kept-alive connection stays usable
        body: Any = None
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise PineconeRequestError("Request body is not valid JSON") from None
            self.record(body=body, size=len(raw))
            self._authenticate()
            handler = routes.get(self.path_only)
            if handler is None:
                raise PineconeRequestError("Not Found", status=404, code=NOT_FOUND)
            if len(raw) > MAX_REQUEST_BYTES:
                raise PineconeRequestError(
                    f"Request size {len(raw)} bytes exceeds the maximum supported size of "
                    f"{MAX_REQUEST_BYTES} bytes (2MB). Please try to reduce your batch size.",
                    status=413,
                )
            if body is not None and not isinstance(body, dict):
                raise PineconeRequestError("Request body must be a JSON object")
            with self.server.lock:
                payload = handler(body or {})
        except PineconeRequestError as error:
            self.send_json({"code": error.code, "message": error.message, "details": []}, status=error.status)
            return
        self.send_json(payload)

    def _authenticate(self) -> None:
        key = self.headers.get("Api-Key")
        if not key:
            raise PineconeRequestError("Missing API key: send it in the Api-Key header", status=401,
                                       code=UNAUTHENTICATED)
        if key != self.server.api_key:
            raise PineconeRequestError("Invalid API Key", status=401, code=UNAUTHENTICATED)

    def _namespace(self, body: dict) -> dict[str, dict]:
        name = body.get("namespace") or ""
        if not isinstance(name, str):
            raise PineconeRequestError("namespace must be a string")
        return self.server.namespaces.setdefault(name, {})

    def _check_dimension(self, values: Any, *, query: bool = False) -> list[float]:
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            raise PineconeRequestError("Vector values must be an array of numbers")
        dimension = self.server.dimension
        if len(values) != dimension:
            subject = "Query vector dimension" if query else "Vector dimension"
            raise PineconeRequestError(
                f"{subject} {len(values)} does not match the dimension of the index {dimension}"
            )
        if not any(values):
            raise PineconeRequestError("Dense vectors must contain at least one non-zero value")
        return [float(v) for v in values]

    # --- endpoints ---
    def _upsert(self, body: dict) -> dict:
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise PineconeRequestError("vectors must be a non-empty array")
        if len(vectors) > MAX_UPSERT_VECTORS:
            raise PineconeRequestError(
                f"Number of vectors ({len(vectors)}) exceeds the maximum of {MAX_UPSERT_VECTORS} "
                "per upsert request"
            )
        prepared = {}
        for vector in vectors:  # validate the whole batch first: real Pinecone rejects it as a unit
            if not isinstance(vector, dict) or not isinstance(vector.get("id"), str) or not vector["id"]:
                raise PineconeRequestError("Each vector needs a non-empty string id")
            values = self._check_dimension(vector.get("values"))
            _validate_metadata(vector["id"], vector.get("metadata"))
            metadata = {k: v for k, v in (vector.get("metadata") or {}).items() if v is not None}
            prepared[vector["id"]] = {"values": values, "metadata": metadata}
        self._namespace(body).update(prepared)
        return {"upsertedCount": len(vectors)}

    def _query(self, body: dict) -> dict:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise PineconeRequestError(f"topK must be an integer between 1 and {MAX_TOP_K}")
        namespace_name = body.get("namespace") or ""
        records = self.server.namespaces.get(namespace_name, {})
        if "vector" in body:
            vector = self._check_dimension(body["vector"], query=True)
        elif "id" in body:
            stored = records.get(body["id"])
            if stored is None:
                return {"matches": [], "namespace": namespace_name, "usage": {"readUnits": 1}}
            vector = stored["values"]
        else:
            raise PineconeRequestError("Query needs a vector or an id")
        expression = body.get("filter")
        scored = [
            (_cosine(vector, record["values"]), vector_id, record)
            for vector_id, record in records.items()
            if matches_filter(record["metadata"], expression)
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        matches = []
        for score, vector_id, record in scored[:top_k]:
            match: dict[str, Any] = {"id": vector_id, "score": score}
            if body.get("includeValues"):
                match["values"] = record["values"]
            if body.get("includeMetadata"):
                match["metadata"] = record["metadata"]
            matches.append(match)
        return {"matches": matches, "namespace": namespace_name, "usage": {"readUnits": 5}}

    def _delete(self, body: dict) -> dict:
        selectors = [key for key in ("ids", "filter", "deleteAll") if body.get(key)]
        if len(selectors) != 1:
            raise PineconeRequestError("Exactly one of ids, filter or deleteAll must be provided")
        name = body.get("namespace") or ""
        records = self.server.namespaces.get(name, {})
        if selectors == ["ids"]:
            ids = body["ids"]
            if not isinstance(ids, list) or len(ids) > 1000:
                raise PineconeRequestError("ids must be an array of at most 1000 vector ids")
            doomed = [vector_id for vector_id in ids if vector_id in records]
        elif selectors == ["filter"]:
            doomed = [vid for vid, record in records.items() if matches_filter(record["metadata"], body["filter"])]
        else:
            doomed = list(records)
        for vector_id in doomed:
            del records[vector_id]
        if not records:
            self.server.namespaces.pop(name, None)
        return {}

    def _describe_index_stats(self, body: dict) -> dict:
        expression = body.get("filter")
        namespaces = {}
        for name, records in self.server.namespaces.items():
            count = sum(1 for record in records.values() if matches_filter(record["metadata"], expression))
            if records:
                namespaces[name] = {"vectorCount": count}
        total = sum(summary["vectorCount"] for summary in namespaces.values())
        return {
            "namespaces": namespaces,
            "dimension": self.server.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": total,
            "metric": "cosine",
            "vectorType": "dense",
        }

    def _fetch(self, body: dict) -> dict:
        ids = self.query.get("ids", [])
        if not ids:
            raise PineconeRequestError("ids must be provided")
        name = self.query.get("namespace", [""])[0]
        records = self.server.namespaces.get(name, {})
        found = {
            vector_id: {"id": vector_id, **records[vector_id]}
            for vector_id in ids
            if vector_id in records
        }
        return {"vectors": found, "namespace": name, "usage": {"readUnits": 1}}


def fake_pinecone(*, dimension: int = 8, api_key: str = "pc-test-key") -> FakeServer:
    """A fake index server (not started: use it as a context manager)."""
    return FakeServer(FakePinecone, dimension=dimension, api_key=api_key, namespaces={}, lock=threading.Lock())
