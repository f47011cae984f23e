"""Offline embedder: signed feature hashing of stems, stem bigrams, character n-grams and synonym
concepts (``data/synonyms.txt``). Needs no model and no network."""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import threading
from pathlib import Path

import numpy as np

from core.text import STOP_WORDS, fold, stem_word

from .base import Embedder, normalise_rows

SYNONYMS = Path(__file__).resolve().parent / "data" / "synonyms.txt"
_TOKEN = re.compile(r"[^\W_]+")


def load_concepts(path: Path = SYNONYMS) -> dict[str, tuple[str, ...]]:
    """Folded stem -> the concepts (group numbers, as text) of the synonym groups holding it."""
    concepts: dict[str, list[str]] = {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    for number, line in enumerate(lines):
        concept = f"{number}"
        for word in line.split():
            stem = stem_word(fold(word))
            bucket = concepts.setdefault(stem, [])
            if concept not in bucket:
                bucket.append(concept)
    return {stem: tuple(ids) for stem, ids in concepts.items()}


CONCEPTS: dict[str, tuple[str, ...]] = load_concepts()  # read once, when the module is imported


class OfflineEmbedder(Embedder):
    """Signed feature hashing of stems, stem bigrams, character n-grams and synonym concepts.

    Needs no model and no network, and is deterministic across processes (blake2b, never the salted
    ``hash()``). Per-word features are computed once per distinct word and kept in a vocabulary;
    a batch is then tokenised in Python and assembled with numpy (``unique`` for term counts,
    ``bincount`` for the hashed sums), which keeps it at thousands of chunks a second.
    """

    name = "offline"

    DEFAULT_WEIGHTS = {"word": 0.6, "concept": 1.5, "chars": 0.6, "bigram": 0.4}
    _BATCH = 512
    _VOCABULARY_LIMIT = 300_000  # distinct words remembered before starting afresh

    def __init__(self, dimension: int = 512, weights: dict[str, float] | None = None):
        if dimension < 16:
            raise ValueError("dimension must be at least 16")
        self.dimension = dimension
        self.weights = {**self.DEFAULT_WEIGHTS, **(weights or {})}
        self._lock = threading.Lock()
        self._reset_vocabulary()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """The same vectors as a ``(len(texts), dimension)`` float32 array."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # the vocabulary is shared state
            return np.vstack([self._embed_batch(texts[i:i + self._BATCH]) for i in range(0, len(texts), self._BATCH)])

    # --- vocabulary: per-word features, computed once ---

    def _reset_vocabulary(self) -> None:
        self._ids: dict[str, int] = {}
        self._stop: list[bool] = []
        self._stem_hashes: list[int] = []
        self._offsets: list[int] = [0]
        self._feature_index: list[int] = []
        self._feature_value: list[float] = []
        self._arrays: tuple[np.ndarray, ...] | None = None

    def _add_word(self, token: str) -> int:
        word_id = len(self._stop)
        self._ids[token] = word_id
        self._stop.append(token in STOP_WORDS or (len(token) == 1 and not token.isdigit()))
        stem = stem_word(token)
        self._stem_hashes.append(_hash64("w:" + stem))
        weights = self.weights
        concepts = CONCEPTS.get(stem, ())
        # Words with a concept lean on it, so that synonyms land together; the word itself still counts.
        features = [("w:" + stem, weights["word"] * (0.6 if concepts else 1.0))]
        features += [("c:" + concept, weights["concept"] / math.sqrt(len(concepts))) for concept in concepts]
        grams = _char_ngrams(token)
        if grams:
            per_gram = weights["chars"] / math.sqrt(len(grams))
            features += [("g:" + gram, per_gram) for gram in grams]
        for feature, weight in features:
            value = _hash64(feature)
            self._feature_index.append(value % self.dimension)
            self._feature_value.append(weight if value >> 63 else -weight)
        self._offsets.append(len(self._feature_index))
        self._arrays = None
        return word_id

    def _vocabulary_arrays(self) -> tuple[np.ndarray, ...]:
        if self._arrays is None:
            self._arrays = (
                np.asarray(self._stop, dtype=bool),
                np.asarray(self._stem_hashes, dtype=np.uint64),
                np.asarray(self._offsets, dtype=np.int64),
                np.asarray(self._feature_index, dtype=np.int64),
                np.asarray(self._feature_value, dtype=np.float64),
            )
        return self._arrays

    # --- one batch ---

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        if len(self._ids) > self._VOCABULARY_LIMIT:
            self._reset_vocabulary()
        count, dim = len(texts), self.dimension
        ids, lengths = self._token_ids(texts)
        stop, stem_hashes, offsets, feature_index, feature_value = self._vocabulary_arrays()
        docs = np.repeat(np.arange(count, dtype=np.int64), lengths)

        # Stop words are dropped, unless a text has nothing else.
        content = ~stop[ids]
        has_content = np.bincount(docs[content], minlength=count) > 0
        keep = content | ~has_content[docs]
        docs, ids = docs[keep], ids[keep]

        # Word features, weighted by sublinear term frequency.
        vocabulary = len(stop)
        pairs, counts = np.unique(docs * vocabulary + ids, return_counts=True)
        pair_docs, pair_words = pairs // vocabulary, pairs % vocabulary
        starts = offsets[pair_words]
        sizes = offsets[pair_words + 1] - starts
        positions = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        positions += np.repeat(starts, sizes)
        flat = [np.repeat(pair_docs, sizes) * dim + feature_index[positions]]
        values = [feature_value[positions] * np.repeat(1.0 + np.log(counts), sizes)]

        # Bigrams of consecutive kept words (stems), hashed from the stems' stable hashes.
        same_doc = docs[1:] == docs[:-1]
        if same_doc.any():
            left, right = stem_hashes[ids[:-1][same_doc]], stem_hashes[ids[1:][same_doc]]
            bigrams = _mix64(left * np.uint64(0x9E3779B97F4A7C15) + right)
            # One sortable key per (text, bigram): the text's number in the top bits (a batch has
            # at most 512 texts), the bigram's hash in the low 54; bucket and sign come from those.
            keys = (docs[:-1][same_doc].astype(np.uint64) << np.uint64(54)) | (bigrams & np.uint64(_LOW_54))
            unique_keys, bigram_counts = np.unique(keys, return_counts=True)
            hashes = unique_keys & np.uint64(_LOW_54)
            signs = np.where((hashes >> np.uint64(53)) & np.uint64(1), 1.0, -1.0)
            bigram_docs = (unique_keys >> np.uint64(54)).astype(np.int64)
            flat.append(bigram_docs * dim + (hashes % np.uint64(dim)).astype(np.int64))
            values.append(signs * self.weights["bigram"] * (1.0 + np.log(bigram_counts)))

        matrix = np.bincount(np.concatenate(flat), weights=np.concatenate(values),
                             minlength=count * dim).reshape(count, dim)
        # A text with no words at all (empty, punctuation only) still needs a unit vector.
        empty = ~matrix.any(axis=1)
        if empty.any():
            value = _hash64("e:")
            matrix[empty, value % dim] = 1.0
        return normalise_rows(matrix).astype(np.float32)

    def _token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        get, add, findall = self._ids.get, self._add_word, _TOKEN.findall
        id_lists = []
        for text in texts:
            tokens = findall(fold(text))
            word_ids = [get(token) for token in tokens]
            if None in word_ids:
                word_ids = [get(token) if get(token) is not None else add(token) for token in tokens]
            id_lists.append(word_ids)
        lengths = np.fromiter((len(word_ids) for word_ids in id_lists), dtype=np.int64, count=len(id_lists))
        ids = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        return ids, lengths


_LOW_54 = (1 << 54) - 1


def _hash64(feature: str) -> int:
    """A stable 64-bit hash of a feature name (bucket from the low bits, sign from the top bit)."""
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised: spreads combined hashes over all 64 bits (wrapping uint64)."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _char_ngrams(token: str) -> list[str]:
    if token.isdigit():
        return []
    marked = f"<{token}>"
    return [marked[i:i + n] for n in (3, 4, 5) for i in range(len(marked) - n + 1)]
