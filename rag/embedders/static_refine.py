"""Refining the static table toward the model it came from (the "tokenlearn" idea of Model2Vec).

The distilled table (``static.distill_table``) holds each token's output *alone*; a text's vector is
their weighted sum. Refining trains those rows so that the sum for a real text points where
all-MiniLM-L6-v2's own sentence embedding of that text points: 5,000 passages and 15,000 single
sentences of technical documentation the evaluation never uses (the Python 3.11 library and
language reference, C API, What's New…, *not* the tutorial, HOWTOs, FAQs, "using" pages or the
eleven library pages of ``rag/data/library``; and PostgreSQL 15's HTML documentation, tags
stripped), as Debian's ``python3-doc`` and ``postgresql-doc-15`` ship them. The targets are
MiniLM's normalised embeddings; the loss is one minus the cosine; the table first moves by one
least-squares map into MiniLM's 384 dimensions, then every row is trained with sparse Adam for
three epochs (the epoch count where the loss on a tenth of the texts kept aside stops falling),
and PCA over the training texts' sums brings it back to 256 dimensions. No question of any
evaluation set is read. Needs the ML extra (torch, sentence-transformers); deterministic (fixed
seeds, one order).
"""

from __future__ import annotations

import html
import importlib.util
import os
import random
import re
from pathlib import Path

import numpy as np

from ..chunking import chunk_text
from ..errors import EmbeddingError

PYTHON_SOURCES = Path("/usr/share/doc/python3-doc/html/_sources")
POSTGRESQL_HTML = Path("/usr/share/doc/postgresql-doc-15/html")
LIBRARY_BUILDER = Path(__file__).resolve().parents[1] / "data" / "library" / "build_library.py"
# Whole sections of the Python documentation the library evaluation draws its pages from.
EVALUATED_SECTIONS = ("tutorial/", "howto/", "faq/", "using/")
PASSAGES, SENTENCES, EPOCHS, SEED = 5000, 15000, 3, 7


def _library_builder():
    spec = importlib.util.spec_from_file_location("build_library", LIBRARY_BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _html_text(raw: str) -> str:
    raw = re.sub(r"(?s)<(script|style|head).*?</\1>", " ", raw)
    raw = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    raw = re.sub(r"[ \t]+", " ", raw)
    return re.sub(r"\n\s*\n+", "\n\n", raw)


def training_texts(python_sources: Path = PYTHON_SOURCES, postgresql_html: Path = POSTGRESQL_HTML) -> list[str]:
    """The passages, then the sentences, to refine on (none from the evaluation's pages)."""
    if not python_sources.is_dir() or not postgresql_html.is_dir():
        raise EmbeddingError(f"refining reads {python_sources} and {postgresql_html}: "
                             "apt-get install python3-doc postgresql-doc-15")
    builder = _library_builder()
    evaluated = set(builder.PAGES)
    pages = []
    for path in sorted(python_sources.rglob("*.rst.txt")):
        name = str(path.relative_to(python_sources))[:-len(".rst.txt")]
        if name in evaluated or name.startswith(EVALUATED_SECTIONS):
            continue
        text = path.read_text(encoding="utf-8")
        try:
            pages.append(builder.convert(text)[1])
        except Exception:  # noqa: BLE001 - a page the converter does not follow is used as it is
            pages.append(text)
    pages += [_html_text(path.read_text(encoding="utf-8", errors="ignore")) for path in sorted(postgresql_html.glob("*.html"))]
    passages = [c.text.strip() for page in pages for c in chunk_text(page) if len(c.text.strip()) > 80]
    rng = random.Random(SEED)
    sentences = []
    for passage in passages:
        parts = [s.strip() for s in re.split(r"(?<=[.?!])\s+", passage) if 20 < len(s.strip()) < 300]
        if parts:
            sentences.append(rng.choice(parts))
    rng.shuffle(passages)
    return passages[:PASSAGES] + sentences[:SENTENCES]


def model_targets(model, texts: list[str]) -> np.ndarray:
    """The model's normalised sentence embeddings of ``texts`` (shortest first, for speed)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    encoded = model.encode([texts[i] for i in order], batch_size=64, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
    targets = np.zeros_like(encoded)
    targets[order] = encoded
    return targets.astype(np.float32)


def refine(weighted: np.ndarray, encode, texts: list[str], targets: np.ndarray, *, dimension: int = 256,
           epochs: int = EPOCHS, rate: float = 0.05) -> np.ndarray:
    """The refined table, weighted as the embedder uses it (a text's vector is the sum of its rows).

    ``weighted``: the distilled table times the embedder's token weights; ``encode``: text → token ids."""
    try:
        import torch
    except ImportError as exc:
        raise EmbeddingError(f"refining needs requirements-ml.txt installed ({exc})") from None
    np.random.seed(0)  # the legacy generator: the table in the repository was built with it
    ids = [encode(text) for text in texts]
    kept = [i for i, token_ids in enumerate(ids) if token_ids]
    ids, targets = [ids[i] for i in kept], targets[kept]
    order = np.random.permutation(len(ids))
    train = order[max(1, len(ids) // 10):]  # a tenth kept aside: its loss chose EPOCHS
    sums = np.stack([weighted[ids[i]].sum(0) for i in train])
    to_model, *_ = np.linalg.lstsq(sums, targets[train], rcond=None)
    table = torch.tensor(weighted @ to_model, dtype=torch.float32)
    bag = torch.nn.EmbeddingBag.from_pretrained(table, freeze=False, mode="sum", sparse=True)
    optimiser = torch.optim.SparseAdam(bag.parameters(), lr=rate * float(table[1000:].abs().mean()))
    wanted = torch.tensor(targets)
    for _ in range(epochs):
        np.random.shuffle(train)
        for start in range(0, len(train), 256):
            batch = train[start:start + 256]
            flat = torch.tensor([t for i in batch for t in ids[i]])
            offsets = torch.tensor(np.cumsum([0] + [len(ids[i]) for i in batch[:-1]]))
            loss = (1 - torch.nn.functional.cosine_similarity(bag(flat, offsets), wanted[batch])).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    refined = bag.weight.detach().numpy()
    used = np.stack([refined[ids[i]].sum(0) for i in train])
    used = used / np.linalg.norm(used, axis=1, keepdims=True)
    _, _, components = np.linalg.svd(used - used.mean(0), full_matrices=False)
    return refined @ components[:dimension].T


def refine_with_model(model_path, weighted: np.ndarray, encode, *, dimension: int = 256) -> np.ndarray:
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingError(f"refining needs requirements-ml.txt installed ({exc})") from None
    torch.set_num_threads(2)
    texts = training_texts()
    model = SentenceTransformer(str(model_path), device="cpu")
    return refine(weighted, encode, texts, model_targets(model, texts), dimension=dimension)
