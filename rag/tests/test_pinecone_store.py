"""The Pinecone store through the real ``pinecone`` SDK, against a fake Pinecone data plane."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from pinecone import Pinecone
from pinecone.errors.exceptions import ApiError

from rag.errors import VectorStoreError
from rag.vectorstores import get_vector_store, namespace_for_user
from rag.vectorstores.base import VectorRecord, build_filter, chunk_metadata
from rag.vectorstores.pinecone import PineconeStore, close_clients
from testutils.fakes.pinecone import PineconeRequestError, fake_pinecone, matches_filter

API_KEY = "pc-test-key"
DIM = 8
ALICE = namespace_for_user(uuid.uuid4())
BOB = namespace_for_user(uuid.uuid4())


@pytest.fixture
def index_server(settings):
    with fake_pinecone(dimension=DIM, api_key=API_KEY) as server:
        settings.PINECONE_API_KEY = API_KEY
        settings.PINECONE_INDEX_HOST = server.url
        yield server
        close_clients()


@pytest.fixture
def store(index_server) -> PineconeStore:
    return PineconeStore()


def axis(position: int, wobble: float = 0.0) -> list[float]:
    """A unit vector along one axis, optionally tilted a little towards the next one."""
    values = [0.0] * DIM
    values[position % DIM] = 1.0
    values[(position + 1) % DIM] = wobble
    return values


def record(vector_id: str, values: list[float], *, document="doc-1", chunk=0, collection=None, tags=(),
           title="Notes") -> VectorRecord:
    metadata = chunk_metadata(document_id=document, chunk_index=chunk, collection=collection, tags=tags, title=title)
    return VectorRecord(id=vector_id, values=values, metadata=metadata)


def requests_to(server, path: str) -> list[dict]:
    return [r for r in server.requests if r["path"].split("?")[0] == path]


def random_vector(rng: random.Random) -> list[float]:
    return [rng.uniform(-1, 1) for _ in range(DIM)]


# --- choosing a store, namespaces, filters --------------------------------------------------------


def test_get_vector_store_follows_the_setting(settings):
    settings.VECTOR_STORE = "pinecone"
    settings.PINECONE_API_KEY = "k"
    settings.PINECONE_INDEX_HOST = "https://idx-abc.svc.pinecone.io"
    store = get_vector_store()
    assert isinstance(store, PineconeStore) and store.name == "pinecone"
    assert get_vector_store("pinecone", dimension=16).dimension == 16
    with pytest.raises(VectorStoreError, match="VECTOR_STORE must be one of"):
        get_vector_store("faiss")


def test_namespace_for_user_has_one_spelling_per_user():
    user_id = uuid.uuid4()
    assert namespace_for_user(user_id) == f"user-{user_id}"
    assert namespace_for_user(str(user_id).upper()) == namespace_for_user(user_id.hex) == f"user-{user_id}"


def test_build_filter_speaks_pinecone_filter_language():
    assert build_filter(None, None) is None
    assert build_filter([], []) is None
    assert build_filter(["work"], None) == {"collection": {"$in": ["work"]}}
    assert build_filter(None, ["a", "b", "a"]) == {"tags": {"$in": ["a", "b"]}}
    assert build_filter(["work", "home"], ["urgent"]) == {
        "$and": [{"collection": {"$in": ["work", "home"]}}, {"tags": {"$in": ["urgent"]}}]
    }


def test_store_refuses_an_empty_namespace(store):
    with pytest.raises(ValueError, match="namespace"):
        store.upsert(namespace="", records=[record("a", axis(0))])


# --- writing and reading ----------------------------------------------------------------------------


def test_upsert_batches_large_writes(store, index_server):
    rng = random.Random(4)
    records = [record(f"doc-1#{i}", random_vector(rng), chunk=i) for i in range(250)]
    store.upsert(namespace=ALICE, records=records)

    upserts = requests_to(index_server, "/vectors/upsert")
    assert len(upserts) >= 3
    assert all(len(r["body"]["vectors"]) <= 100 for r in upserts)
    assert sum(len(r["body"]["vectors"]) for r in upserts) == 250
    assert all(r["body"]["namespace"] == ALICE for r in upserts)
    # The SDK authenticates and pins the API version on every data-plane request.
    assert all(r["headers"]["Api-Key"] == API_KEY and r["headers"]["X-Pinecone-Api-Version"] for r in upserts)
    assert store.stats()["namespaces"] == {ALICE: 250}


def test_upsert_keeps_each_request_under_two_megabytes(store, index_server):
    # 60 vectors with ~40 KB of metadata each: ~2.4 MB, too much for one request.
    records = [record(f"big#{i}", axis(i), chunk=i, title="x" * 40_000) for i in range(60)]
    store.upsert(namespace=ALICE, records=records)

    upserts = requests_to(index_server, "/vectors/upsert")
    assert len(upserts) >= 2
    assert all(r["size"] < 2 * 1024 * 1024 for r in upserts)
    assert store.stats()["total_vector_count"] == 60


def test_upsert_replaces_a_record_with_the_same_id(store):
    store.upsert(namespace=ALICE, records=[record("a", axis(0), title="old")])
    store.upsert(namespace=ALICE, records=[record("a", axis(3), title="new")])
    [match] = store.query(namespace=ALICE, vector=axis(3), top_k=5)
    assert (match.id, match.metadata["title"]) == ("a", "new")
    assert match.score == pytest.approx(1.0)


def test_query_returns_the_nearest_vectors_with_metadata(store, index_server):
    store.upsert(namespace=ALICE, records=[
        record("near", axis(2, wobble=0.1), document="doc-7", chunk=3, collection="work", tags=["q3"], title="Plan"),
        record("middle", axis(2, wobble=1.0)),
        record("far", axis(5)),
    ])
    matches = store.query(namespace=ALICE, vector=axis(2), top_k=2)

    assert [m.id for m in matches] == ["near", "middle"]
    assert matches[0].score > matches[1].score
    assert matches[0].metadata == {"document_id": "doc-7", "chunk_index": 3, "collection": "work",
                                   "tags": ["q3"], "title": "Plan"}
    [query] = requests_to(index_server, "/query")
    assert query["body"]["topK"] == 2 and query["body"]["includeMetadata"] is True
    assert "filter" not in query["body"]


def test_namespaces_keep_users_apart(store):
    same = axis(1)
    store.upsert(namespace=ALICE, records=[record("alice-1", same), record("alice-2", axis(4))])
    store.upsert(namespace=BOB, records=[record("bob-1", same)])

    alice_ids = {m.id for m in store.query(namespace=ALICE, vector=same, top_k=10)}
    bob_ids = {m.id for m in store.query(namespace=BOB, vector=same, top_k=10)}
    assert alice_ids == {"alice-1", "alice-2"}
    assert bob_ids == {"bob-1"}
    assert store.query(namespace=namespace_for_user(uuid.uuid4()), vector=same, top_k=10) == []


def test_collection_and_tag_filters(store, index_server):
    store.upsert(namespace=ALICE, records=[
        record("w-urgent", axis(0), collection="work", tags=["urgent", "q3"]),
        record("w-plain", axis(0, 0.2), collection="work", tags=["q3"]),
        record("h-urgent", axis(0, 0.4), collection="home", tags=["urgent"]),
        record("loose", axis(0, 0.6)),  # no collection, no tags
    ])

    def ids(**narrow) -> set[str]:
        return {m.id for m in store.query(namespace=ALICE, vector=axis(0), top_k=10, **narrow)}

    assert ids() == {"w-urgent", "w-plain", "h-urgent", "loose"}
    assert ids(collections=["work"]) == {"w-urgent", "w-plain"}
    assert ids(collections=["work", "home"]) == {"w-urgent", "w-plain", "h-urgent"}
    assert ids(tags=["urgent"]) == {"w-urgent", "h-urgent"}
    assert ids(tags=["urgent", "q3"]) == {"w-urgent", "w-plain", "h-urgent"}
    assert ids(collections=["work"], tags=["urgent"]) == {"w-urgent"}
    assert ids(collections=["home"], tags=["q3"]) == set()
    sent = requests_to(index_server, "/query")[-1]["body"]["filter"]
    assert sent == {"$and": [{"collection": {"$in": ["home"]}}, {"tags": {"$in": ["q3"]}}]}


# --- deleting -----------------------------------------------------------------------------------------


def test_delete_by_ids(store):
    store.upsert(namespace=ALICE, records=[record(f"v{i}", axis(i)) for i in range(5)])
    store.upsert(namespace=BOB, records=[record("v0", axis(0))])
    store.delete(namespace=ALICE, ids=["v0", "v1", "missing"])

    assert store.stats()["namespaces"] == {ALICE: 3, BOB: 1}
    assert {m.id for m in store.query(namespace=ALICE, vector=axis(0), top_k=10)} == {"v2", "v3", "v4"}


def test_delete_sends_at_most_a_thousand_ids_per_request(store, index_server):
    store.upsert(namespace=ALICE, records=[record("keep", axis(0)), record("drop", axis(1))])
    store.delete(namespace=ALICE, ids=["drop"] + [f"ghost-{i}" for i in range(2100)])

    deletes = requests_to(index_server, "/vectors/delete")
    assert [len(r["body"]["ids"]) for r in deletes] == [1000, 1000, 101]
    assert store.stats()["namespaces"] == {ALICE: 1}


def test_delete_document_by_metadata_filter(store, index_server):
    store.upsert(namespace=ALICE, records=[
        *[record(f"d1#{i}", axis(i), document="doc-1", chunk=i) for i in range(3)],
        record("d2#0", axis(0), document="doc-2"),
    ])
    store.upsert(namespace=BOB, records=[record("b#0", axis(0), document="doc-1")])
    store.delete_document(namespace=ALICE, document_id="doc-1")

    assert store.stats()["namespaces"] == {ALICE: 1, BOB: 1}
    last = requests_to(index_server, "/vectors/delete")[-1]["body"]
    assert last == {"namespace": ALICE, "filter": {"document_id": {"$eq": "doc-1"}}}


def test_delete_document_with_known_ids_also_catches_unrecorded_ones(store, index_server):
    store.upsert(namespace=ALICE, records=[
        record("d1#0", axis(0), document="doc-1"),
        record("d1#stray", axis(1), document="doc-1"),  # written by a run whose ids were lost
        record("d2#0", axis(2), document="doc-2"),
    ])
    store.delete_document(namespace=ALICE, document_id="doc-1", ids=["d1#0"])

    assert [m.id for m in store.query(namespace=ALICE, vector=axis(1), top_k=10)] == ["d2#0"]
    bodies = [r["body"] for r in requests_to(index_server, "/vectors/delete")]
    assert bodies[0] == {"namespace": ALICE, "ids": ["d1#0"]}


# --- stats and check ----------------------------------------------------------------------------------


def test_stats_reports_counts_per_namespace_and_dimension(store):
    assert store.stats() == {"dimension": DIM, "total_vector_count": 0, "namespaces": {}}
    store.upsert(namespace=ALICE, records=[record(f"a{i}", axis(i)) for i in range(3)])
    store.upsert(namespace=BOB, records=[record("b0", axis(0))])
    assert store.stats() == {"dimension": DIM, "total_vector_count": 4, "namespaces": {ALICE: 3, BOB: 1}}


def test_check_is_empty_when_the_store_is_usable(index_server):
    assert PineconeStore().check() == []
    assert PineconeStore(dimension=DIM).check() == []


def test_check_names_missing_settings(settings):
    settings.PINECONE_API_KEY = ""
    settings.PINECONE_INDEX_HOST = ""
    problems = PineconeStore().check()
    assert len(problems) == 2
    assert "PINECONE_API_KEY is not set" in problems[0]
    assert "PINECONE_INDEX_HOST is not set" in problems[1]

    settings.PINECONE_API_KEY = API_KEY
    assert PineconeStore().check() == [problems[1]]
    settings.PINECONE_API_KEY, settings.PINECONE_INDEX_HOST = "", "https://idx-abc.svc.pinecone.io"
    assert PineconeStore().check() == [problems[0]]


def test_operations_without_settings_raise_a_clear_error(settings):
    settings.PINECONE_API_KEY = ""
    settings.PINECONE_INDEX_HOST = "https://idx-abc.svc.pinecone.io"
    with pytest.raises(VectorStoreError, match="PINECONE_API_KEY is not set"):
        PineconeStore().query(namespace=ALICE, vector=axis(0), top_k=3)


def test_check_reports_a_dimension_mismatch(index_server):
    [problem] = PineconeStore(dimension=1536).check()
    assert f"dimension {DIM}" in problem and "1536" in problem


def test_check_reports_an_unreachable_host(settings):
    settings.PINECONE_API_KEY = API_KEY
    with fake_pinecone() as server:  # a port that was just listening and is now closed
        url = server.url
    settings.PINECONE_INDEX_HOST = url
    [problem] = PineconeStore().check()
    assert "cannot be reached" in problem and url in problem


def test_check_reports_an_invalid_host(settings):
    settings.PINECONE_API_KEY = API_KEY
    settings.PINECONE_INDEX_HOST = "http://pinecone:5080"  # the SDK wants a dot or "localhost"
    [problem] = PineconeStore().check()
    assert "PINECONE_INDEX_HOST" in problem and "does not appear to be a valid URL" in problem


def test_check_reports_a_rejected_api_key(index_server, settings):
    settings.PINECONE_API_KEY = "wrong-key"
    [problem] = PineconeStore().check()
    assert "rejected the API key" in problem


# --- errors -------------------------------------------------------------------------------------------


def test_wrong_dimension_from_the_index_raises_a_clear_error(store, index_server):
    with pytest.raises(VectorStoreError) as caught:
        store.upsert(namespace=ALICE, records=[record("short", [1.0, 0.0, 0.0])])
    message = str(caught.value)
    assert "Vector dimension 3 does not match the dimension of the index 8" in message
    assert "same dimension" in message and caught.value.retryable is False
    assert store.stats()["total_vector_count"] == 0


def test_wrong_dimension_is_caught_before_sending_when_the_store_knows_it(index_server):
    store = PineconeStore(dimension=DIM)
    records = [record("ok", axis(0)), record("short", [1.0, 0.0, 0.0])]
    with pytest.raises(VectorStoreError, match="3 dimensions but this Pinecone store expects 8"):
        store.upsert(namespace=ALICE, records=records)
    with pytest.raises(VectorStoreError, match="expects 8"):
        store.query(namespace=ALICE, vector=[1.0, 0.0], top_k=1)
    with pytest.raises(VectorStoreError, match="unlike the others"):  # no expected dimension: one per batch
        PineconeStore().upsert(namespace=ALICE, records=records)
    assert index_server.requests == []


def test_a_bad_api_key_raises(index_server, settings):
    settings.PINECONE_API_KEY = "wrong-key"
    with pytest.raises(VectorStoreError, match="rejected the API key") as caught:
        PineconeStore().upsert(namespace=ALICE, records=[record("a", axis(0))])
    assert caught.value.retryable is False


def test_invalid_metadata_raises(store):
    bad = VectorRecord(id="a", values=axis(0), metadata={"nested": {"no": "objects"}})
    with pytest.raises(VectorStoreError, match="Invalid data for Pinecone"):
        store.upsert(namespace=ALICE, records=[bad])


@pytest.mark.slow
def test_an_unreachable_host_raises_a_retryable_error(settings):
    settings.PINECONE_API_KEY = API_KEY
    with fake_pinecone() as server:
        url = server.url
    settings.PINECONE_INDEX_HOST = url
    with pytest.raises(VectorStoreError, match="cannot be reached") as caught:
        PineconeStore().query(namespace=ALICE, vector=axis(0), top_k=1)  # the SDK retries for a few seconds
    assert caught.value.retryable is True
    close_clients()


# --- the fake enforces what Pinecone enforces -----------------------------------------------------------


def test_fake_refuses_more_than_a_thousand_vectors_per_upsert(index_server):
    with Pinecone(api_key=API_KEY) as pc, pc.index(host=index_server.url) as index:
        with pytest.raises(ApiError) as caught:
            index.upsert(vectors=[(f"v{i}", axis(i)) for i in range(1001)], namespace=ALICE)
    assert caught.value.status_code == 400 and caught.value.body["code"] == 3
    assert "1001" in caught.value.body["message"]


def test_fake_requires_the_api_key_header(index_server):
    response = httpx.post(f"{index_server.url}/describe_index_stats", json={})
    assert response.status_code == 401 and response.json()["code"] == 16
    response = httpx.get(f"{index_server.url}/describe_index_stats", headers={"Api-Key": API_KEY})
    assert response.status_code == 200 and response.json()["dimension"] == DIM


def test_fake_fetch_returns_stored_vectors(store, index_server):
    store.upsert(namespace=ALICE, records=[record("a", axis(0), tags=["t"])])
    with Pinecone(api_key=API_KEY) as pc, pc.index(host=index_server.url) as index:
        fetched = index.fetch(ids=["a", "missing"], namespace=ALICE)
    assert list(fetched.vectors) == ["a"] and fetched.vectors["a"].metadata["tags"] == ["t"]


@pytest.mark.parametrize(("expression", "expected"), [
    ({"genre": "drama"}, True),
    ({"genre": {"$eq": "comedy"}}, False),
    ({"genre": {"$ne": "comedy"}}, True),
    ({"tags": {"$eq": "b"}}, True),  # equality on a list field: any element
    ({"tags": {"$in": ["x", "b"]}}, True),
    ({"tags": {"$in": ["x", "y"]}}, False),
    ({"tags": {"$nin": ["x", "b"]}}, False),
    ({"tags": {"$ne": "x"}}, True),
    ({"year": {"$gt": 2019, "$lte": 2020}}, True),
    ({"year": {"$lt": 2020}}, False),
    ({"year": {"$gte": 2020}}, True),
    ({"year": {"$in": [2020.0]}}, True),
    ({"rated": {"$eq": True}}, True),
    ({"rated": {"$eq": 1}}, False),  # a boolean never equals a number
    ({"missing": {"$exists": False}}, True),
    ({"genre": {"$exists": True}}, True),
    ({"missing": {"$nin": ["a"]}}, True),
    ({"missing": {"$gt": 1}}, False),
    ({"$or": [{"genre": "comedy"}, {"year": 2020}]}, True),
    ({"$and": [{"genre": "drama"}, {"tags": {"$in": ["z"]}}]}, False),
    ({"genre": "drama", "year": 2021}, False),  # several fields: all must match
])
def test_fake_filter_operators(expression, expected):
    metadata = {"genre": "drama", "tags": ["a", "b"], "year": 2020, "rated": True}
    assert matches_filter(metadata, expression) is expected


@pytest.mark.parametrize("expression", [
    {"genre": {"$like": "dr%"}},
    {"$not": {"genre": "drama"}},
    {"tags": {"$in": "a"}},
    {"year": {"$gt": "2019"}},
    {"$and": []},
])
def test_fake_rejects_malformed_filters(expression):
    with pytest.raises(PineconeRequestError):
        matches_filter({"genre": "drama"}, expression)
