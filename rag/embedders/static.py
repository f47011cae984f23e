"""The built-in static embedder (the default): a table of token vectors, summed per text."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _

from ..errors import EmbeddingError
from ..wordpiece import WordPiece
from .base import Embedder, normalise_rows
from .sentence_transformers import resolve_sentence_transformers_model

DATA = Path(__file__).resolve().parents[1] / "data"  # rag/data/: the table, its vocabulary, NOTICE


class StaticEmbedder(Embedder):
    """Static token vectors distilled from all-MiniLM-L6-v2 (the Model2Vec recipe): the default.

    Each WordPiece token of MiniLM's vocabulary has a 256-dimension vector (its contextual output
    alone, centred and reduced by PCA; ``rag/data/``, distilled by ``manage.py build_static_embeddings``
    from the sentence-transformers extra). A text's vector is the sum of its tokens' vectors weighted
    by ``log(1 + token id)`` (BERT vocabularies are ordered roughly by frequency: rare tokens count
    more), normalised. Run time needs numpy and the 16 MB table only: no model, no download. On our
    question set it found paraphrased questions' passages far more often than feature hashing did (vector
    half recall@5 0.80 against 0.60; that embedder was retired), and its dense vectors suit an HNSW index.
    """

    name = "static"
    dimension = 256
    TABLE = DATA / "static_minilm_256.npy"
    VOCABULARY = DATA / "minilm_vocab.txt"
    SPECIAL_IDS = frozenset({0, 100, 101, 102, 103})  # [PAD] [UNK] [CLS] [SEP] [MASK]

    def __init__(self):
        try:
            table = np.load(self.TABLE)
            self.tokenizer = WordPiece.from_file(self.VOCABULARY)
        except OSError as exc:
            raise EmbeddingError(_("The built-in embedding table is missing (%(path)s).") % {"path": self.TABLE}) from exc
        # Weighted once here, so a text's vector is a plain sum of rows.
        self.table = (table.astype(np.float32) * token_weights(table.shape[0])[:, None]).astype(np.float32)
        self.dimension = int(table.shape[1])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        encoded = [self.tokenizer.encode(text) for text in texts]
        lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if lengths.sum():
            flat = np.fromiter((i for ids in encoded for i in ids), dtype=np.int64, count=int(lengths.sum()))
            rows = self.table[flat]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            present = lengths > 0
            vectors[present] = np.add.reduceat(rows, starts[present], axis=0)
        return normalise_rows(vectors)


def token_weights(size: int) -> np.ndarray:
    """``log(1 + token id)``, 0 for the special tokens: what each stored row is multiplied by."""
    weights = np.log1p(np.arange(size, dtype=np.float32))
    weights[list(StaticEmbedder.SPECIAL_IDS)] = 0.0
    return weights


def stored_table(weighted: np.ndarray) -> np.ndarray:
    """The float16 table to save for ``weighted`` (rows as the embedder sums them): divided by the
    token weights, scaled so the largest value is 100 (cosine ignores scale; float16 keeps precision)."""
    weights = token_weights(weighted.shape[0]).astype(np.float64)
    special = list(StaticEmbedder.SPECIAL_IDS)
    weights[special] = 1.0
    table = weighted.astype(np.float64) / weights[:, None]
    table[special] = 0.0
    return (table * (100.0 / np.abs(table).max())).astype(np.float16)


def distill_table(model_path: str | Path | None = None, *, dimension: int = 256,
                  batch_size: int = 2048) -> tuple[list[str], np.ndarray]:
    """Distil the table from the local sentence-transformers model (the one the
    "sentence-transformers" embedder loads): each token's contextual output alone between [CLS] and
    [SEP], centred, reduced to ``dimension`` by PCA. Returns the vocabulary (tokens in id order) and
    the table, one row per token. About 30 s on two CPU cores for MiniLM's 30,522 tokens. Raises
    EmbeddingError when sentence-transformers or the model is missing, or the vocabulary is not
    numbered 0..n-1."""
    path = resolve_sentence_transformers_model(model_path)
    os.environ["HF_HUB_OFFLINE"] = "1"  # a local directory only, as the embedder loads it
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingError(f"distilling needs requirements-ml.txt installed ({exc})") from None
    model = SentenceTransformer(str(path), device="cpu")
    tokenizer, transformer = model.tokenizer, model[0].auto_model
    vocabulary = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    if [index for _, index in vocabulary] != list(range(len(vocabulary))):
        raise EmbeddingError("the model's vocabulary is not numbered 0..n-1")
    size = tokenizer.vocab_size
    outputs = np.zeros((size, transformer.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, size, batch_size):
            ids = torch.arange(start, min(start + batch_size, size))
            inputs = torch.stack([torch.full_like(ids, tokenizer.cls_token_id), ids,
                                  torch.full_like(ids, tokenizer.sep_token_id)], dim=1)
            hidden = transformer(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            outputs[start:start + len(ids)] = hidden[:, 1].numpy()
    centred = outputs - outputs.mean(axis=0)
    _, _, components = np.linalg.svd(centred[::3], full_matrices=False)  # a third of the rows fits the PCA
    return [token for token, _ in vocabulary], centred @ components[:dimension].T
