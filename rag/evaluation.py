"""Retrieval quality: a question set over a corpus of our own, recall@k per kind of question and mode.

The set (``rag/data/eval_corpus.json``; ``manage.py evaluate_rag --corpus PATH`` reads another of
the same shape) holds 31 personal documents (five in Spanish, several pairs sharing vocabulary on
purpose: a car log and a motorcycle log, two rental agreements, two appliance manuals, two handbook
sections, ...) and 60 questions, each naming its relevant document and the heading of the section
holding the answer. Half are *lexical* (worded with the document's own words), half *paraphrased*
(same need, other words).

The evaluation indexes the corpus for a user through the real pipeline (``index_document``), then
asks each question once of each half of retrieval (``retrieval.vector_search`` and
``retrieval.text_search``) and keeps those candidates. Every mode is then a pure function of the
candidates (``fusion.fuse`` itself, with the embedder's weight, so "hybrid" here is what
``retrieve`` returns; the tests check it), and a sweep of fusion text weights costs no further
queries. A question counts as found
at k when a chunk of its document is among the first k chunks; ``section=True`` asks for a chunk
of the right section.

The library-scale set (``rag/data/library/``, ``evaluate_rag --set library``) is 60 pages of the
Python documentation (≈ 3,600 chunks) and 64 questions written before any tuning, split into a
*tuning* half and a *held-out* half (``Question.half``): weights are chosen on the first and
reported on the second. Rankings are compared run to run by (document key, position), which do
not depend on the random ids a fresh indexing gives (``ranking_signature``).

``manage.py evaluate_rag`` prints the tables (see its help).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from core.tenancy import tenant

from .embedders import get_embedder
from .fusion import Weights, diversify, fuse, percentiles, weights_for
from .indexing import index_document
from .models import RagChunk, RagDocument, Source, Status
from .retrieval import CANDIDATES, text_search_result, vector_search

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "eval_corpus.json"
LIBRARY_PATH = Path(__file__).resolve().parent / "data" / "library"
DJANGO_PATH = Path(__file__).resolve().parent / "data" / "django"
SETS = {"small": CORPUS_PATH, "library": LIBRARY_PATH, "django": DJANGO_PATH}
KINDS = ("lexical", "paraphrased")
HALVES = ("tuning", "held-out")
MODES = ("vector", "text", "hybrid")
# Text weights for the score-fusion sweep (``--grid``).
DEFAULT_TEXT_WEIGHTS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
# The single text weight once measured on the small set alone (docs/decisions.md); what retrieve
# uses now is per embedder (rag/fusion.py, chosen with --tune).
RECOMMENDED_SCORE_TEXT_WEIGHT = 0.4


# --- the question set ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalDocument:
    key: str
    title: str
    language: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "lexical" | "paraphrased"
    question: str
    document: str  # key of the relevant document
    section: str = ""  # heading of the section holding the answer, if one does
    half: str = ""  # "tuning" | "held-out" (the library set), "" (no split)


@dataclass(frozen=True)
class Corpus:
    documents: tuple[EvalDocument, ...]
    questions: tuple[Question, ...]

    def select(self, keys: Iterable[str]) -> Corpus:
        """Only these documents, and the questions about them."""
        wanted = set(keys)
        return Corpus(tuple(d for d in self.documents if d.key in wanted),
                      tuple(q for q in self.questions if q.document in wanted))

    def of_kind(self, kind: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.kind == kind)

    def halves(self) -> tuple[str, ...]:
        """The halves its questions are split into, in ``HALVES`` order (none for an unsplit set)."""
        present = {q.half for q in self.questions}
        return tuple(half for half in HALVES if half in present)


def load_corpus(path: str | Path = CORPUS_PATH) -> Corpus:
    """Read and check the set: unique keys and ids, known kinds and halves, and questions naming an
    existing document and one of its headings.

    ``path`` is a JSON file holding documents and questions (the small set's shape), or a folder
    holding ``documents.json.gz`` and ``questions.json`` (the library set's)."""
    path = Path(path)
    if path.is_dir():
        with gzip.open(path / "documents.json.gz", "rt", encoding="utf-8") as packed:
            data = {"documents": json.load(packed)["documents"],
                    "questions": json.loads((path / "questions.json").read_text(encoding="utf-8"))["questions"]}
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    documents = tuple(EvalDocument(key=d["key"], title=d["title"], language=d["language"], text=d["text"])
                      for d in data["documents"])
    questions = tuple(Question(id=q["id"], kind=q["kind"], question=q["question"], document=q["document"],
                               section=q.get("section", ""), half=q.get("half", "")) for q in data["questions"])
    by_key = {d.key: d for d in documents}
    if len(by_key) != len(documents):
        raise ValueError("document keys must be unique")
    if len({q.id for q in questions}) != len(questions):
        raise ValueError("question ids must be unique")
    for question in questions:
        if question.kind not in KINDS:
            raise ValueError(f"{question.id}: kind must be one of {KINDS}")
        if question.half and question.half not in HALVES:
            raise ValueError(f"{question.id}: half must be one of {HALVES}")
        document = by_key.get(question.document)
        if document is None:
            raise ValueError(f"{question.id}: no document {question.document!r}")
        if question.section and question.section not in _headings(document.text):
            raise ValueError(f"{question.id}: {question.document!r} has no heading {question.section!r}")
    return Corpus(documents, questions)


def _headings(markdown: str) -> set[str]:
    return {line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")}


# --- indexing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkInfo:
    document: str  # document key
    heading: str  # heading path, "Title > Section"
    content: str
    position: int = 0  # the chunk's position in its document


@dataclass(frozen=True)
class IndexedCorpus:
    user: object
    corpus: Corpus
    embedder_name: str
    document_ids: dict[str, str]  # document key -> RagDocument id
    chunks: dict[str, ChunkInfo] = field(repr=False)  # chunk id -> where it belongs


def index_corpus(user, corpus: Corpus, *, embedder_name: str | None = None) -> IndexedCorpus:
    """Create the corpus's documents for ``user`` and index them now, with ``embedder_name``."""
    name = get_embedder(embedder_name).name
    document_ids: dict[str, str] = {}
    for document in corpus.documents:
        with tenant(user.id):
            row = RagDocument.objects.create(
                user=user, title=document.title, source=Source.PASTE, content=document.text, format="md",
                size_bytes=len(document.text.encode()),
            )
        indexed = index_document(user_id=user.id, document_id=row.id, embedder_name=name)
        if indexed is None or indexed.status != Status.INDEXED:
            reason = indexed.error_message if indexed is not None else "deleted while indexing"
            raise RuntimeError(f"document {document.key!r} was not indexed: {reason}")
        document_ids[document.key] = str(row.id)
    keys = {value: key for key, value in document_ids.items()}
    with tenant(user.id):
        rows = RagChunk.objects.filter(user=user, document_id__in=list(keys)).values_list(
            "id", "document_id", "heading", "content", "position")
        chunks = {str(cid): ChunkInfo(keys[str(did)], heading, content, position)
                  for cid, did, heading, content, position in rows}
    return IndexedCorpus(user=user, corpus=corpus, embedder_name=name, document_ids=document_ids, chunks=chunks)


# --- candidates: each half asked once per question ------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    question: Question
    vector: tuple[tuple[str, float], ...]  # (chunk id, cosine similarity), best first
    text: tuple[tuple[str, float], ...]  # (chunk id, BM25 score), best first
    embedder: str = ""  # the embedder the vector half used
    # (chunk id, document key) of every candidate, for ``fusion.diversify``; a chunk not listed
    # counts as a document of its own.
    documents: tuple[tuple[str, str], ...] = ()
    text_ceiling: float = 0.0  # the question's BM25 ceiling (``LexicalResult.ceiling``)


def collect_candidates(indexed: IndexedCorpus, questions: Sequence[Question] | None = None, *,
                       limit: int = CANDIDATES) -> list[Candidates]:
    """Both halves' hits for each question."""
    questions = indexed.corpus.questions if questions is None else questions
    result = []
    for question in questions:
        vector = vector_search(user=indexed.user, query=question.question, limit=limit,
                               embedder_name=indexed.embedder_name)
        lexical = text_search_result(user=indexed.user, query=question.question, limit=limit)
        text = lexical.hits
        documents = tuple((chunk_id, indexed.chunks[chunk_id].document) for chunk_id, _ in (*vector, *text)
                          if chunk_id in indexed.chunks)
        result.append(Candidates(question, tuple(vector), tuple(text), indexed.embedder_name, documents,
                                 lexical.ceiling))
    return result


# --- rankers: candidates -> chunk ids, best first -------------------------------------------------------

Ranker = Callable[[Candidates], list[str]]


def _fused(candidates: Candidates, text_weight: float | Weights, mode: str = "hybrid") -> list[str]:
    """The order ``retrieve`` gives: ``retrieval.fuse`` itself (a half alone keeps its own hits),
    then ``fusion.diversify``."""
    vector = list(candidates.vector) if mode != "text" else []
    text = list(candidates.text) if mode != "vector" else []
    fused = fuse(vector, text, text_weight=text_weight, text_ceiling=candidates.text_ceiling)
    if mode == "vector":
        fused = [f for f in fused if f[2] is not None]
    elif mode == "text":
        fused = [f for f in fused if f[3] is not None]
    documents = dict(candidates.documents)
    return [chunk_id for chunk_id, *_ in diversify(fused, lambda entry: documents.get(entry[0], entry[0]))]


def rank_vector(candidates: Candidates) -> list[str]:
    return _fused(candidates, 0.0, "vector")


def rank_text(candidates: Candidates) -> list[str]:
    return _fused(candidates, 1.0, "text")


def score_fusion_ranker(text_weight: float | Weights = RECOMMENDED_SCORE_TEXT_WEIGHT) -> Ranker:
    def rank(candidates: Candidates) -> list[str]:
        return _fused(candidates, text_weight)
    return rank


def mode_ranker(mode: str, *, text_weight: float | Weights | None = None) -> Ranker:
    """The ranker of a ``retrieve`` mode; hybrid uses the embedder's weights (``fusion.weights_for``)
    unless given."""
    if mode == "vector":
        return rank_vector
    if mode == "text":
        return rank_text
    if mode == "hybrid":
        if text_weight is not None:
            return score_fusion_ranker(text_weight)

        def rank(candidates: Candidates) -> list[str]:
            return _fused(candidates, weights_for(candidates.embedder or settings.EMBEDDER))
        return rank
    raise ValueError(f"mode must be one of {MODES}")


# --- metrics -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recall:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.value:.2f}"


def is_hit(question: Question, ranking: Sequence[str], chunks: dict[str, ChunkInfo], k: int, *,
           section: bool = False) -> bool:
    """Whether a chunk of the question's document (of its section, with ``section``) is in the top k."""
    for chunk_id in ranking[:k]:
        info = chunks.get(chunk_id)
        if info is None or info.document != question.document:
            continue
        if not section or not question.section or question.section in info.heading.split(" > "):
            return True
    return False


def recall(candidates: Sequence[Candidates], ranker: Ranker, chunks: dict[str, ChunkInfo], k: int, *,
           kind: str | None = None, section: bool = False, half: str | None = None) -> Recall:
    chosen = [c for c in candidates if (kind is None or c.question.kind == kind)
              and (half is None or c.question.half == half)]
    hits = sum(is_hit(c.question, ranker(c), chunks, k, section=section) for c in chosen)
    return Recall(hits, len(chosen))


def misses(candidates: Sequence[Candidates], ranker: Ranker, chunks: dict[str, ChunkInfo], k: int) -> list[Question]:
    return [c.question for c in candidates if not is_hit(c.question, ranker(c), chunks, k)]


# --- tables ----------------------------------------------------------------------------------------------

Table = dict[tuple[str, str, int], Recall]  # (kind, mode, k) -> recall


def evaluate(candidates: Sequence[Candidates], chunks: dict[str, ChunkInfo], *, ks: Sequence[int] = (5, 10),
             rankers: dict[str, Ranker] | None = None, section: bool = False, half: str | None = None) -> Table:
    """Recall for each kind × mode × k (of one half's questions, with ``half``); ``rankers`` default
    to the three ``retrieve`` modes."""
    rankers = rankers or {mode: mode_ranker(mode) for mode in MODES}
    return {(kind, mode, k): recall(candidates, ranker, chunks, k, kind=kind, section=section, half=half)
            for kind in KINDS for mode, ranker in rankers.items() for k in ks}


def ranking_signature(candidates: Sequence[Candidates], chunks: dict[str, ChunkInfo], rankers: dict[str, Ranker], *,
                      depth: int = 10) -> dict[tuple[str, str], tuple[tuple[str, int], ...]]:
    """Each question's top ``depth`` for each ranker as (document key, position) pairs: what two
    indexings of the same set must agree on (chunk ids differ, being derived from document ids)."""
    return {(c.question.id, name): tuple((chunks[chunk_id].document, chunks[chunk_id].position)
                                         for chunk_id in ranker(c)[:depth] if chunk_id in chunks)
            for c in candidates for name, ranker in rankers.items()}


def score_grid(candidates: Sequence[Candidates], chunks: dict[str, ChunkInfo], *, k: int = 5,
               text_weights: Sequence[float] = DEFAULT_TEXT_WEIGHTS,
               half: str | None = None) -> list[tuple[float, dict[str, Recall]]]:
    """``score_fusion`` recall@k of each kind for each text weight (one half's questions, with ``half``)."""
    return [(weight, {kind: recall(candidates, score_fusion_ranker(weight), chunks, k, kind=kind, half=half)
                      for kind in KINDS})
            for weight in text_weights]


def _point(low: float, high: float, share: float, width: float, power: float) -> Weights:
    if low == high:  # a constant weight: where the ramp would be makes no difference
        return Weights.constant(low, vector_power=power)
    return Weights(low, high, share, round(share + width, 2), power)


def _grid(lows, highs, shares_low, widths, powers) -> tuple[Weights, ...]:
    return tuple(dict.fromkeys(_point(low, high, share, width, power) for low in lows for high in highs
                               if high >= low for share in shares_low for width in widths for power in powers))


# The fusion weights --tune chooses among (fusion.Weights): text weight below and above the word
# match's ramp, where the ramp starts and how wide it is, the vector half's power. Constant weights
# are the points with low == high.
TUNING_AXES: tuple[tuple[float, ...], ...] = (
    (0.1, 0.2, 0.3, 0.4, 0.5),  # low
    (0.5, 0.6, 0.7, 0.8, 0.9),  # high
    (0.2, 0.25, 0.3, 0.35, 0.4, 0.45),  # share_low
    (0.05, 0.1, 0.2),  # share_high - share_low
    (0.5, 1.0),  # vector_power
)
# One constant weight for every question (what fusion was before), for comparison.
CONSTANT_WEIGHTS: tuple[Weights, ...] = tuple(Weights.constant(i / 20, vector_power=power)
                                              for i in range(21) for power in (0.5, 1.0))
TUNING_GRID: tuple[Weights, ...] = tuple(dict.fromkeys(_grid(*TUNING_AXES) + CONSTANT_WEIGHTS))


def _neighbours(weights: Weights, axes: Sequence[Sequence[float]] = TUNING_AXES) -> list[Weights]:
    """The grid points one step away from ``weights`` along one axis."""
    point = (weights.low, weights.high, weights.share_low, round(weights.share_high - weights.share_low, 2),
             weights.vector_power)
    found = []
    for axis, values in enumerate(axes):
        if point[axis] not in values:
            continue
        at = values.index(point[axis])
        for step in (-1, 1):
            if 0 <= at + step < len(values):
                moved = list(point)
                moved[axis] = values[at + step]
                if moved[1] >= moved[0]:
                    found.append(_point(*moved))
    return found


@dataclass(frozen=True)
class Tuning:
    weights: Weights
    columns: tuple[tuple[str, bool], ...]  # (label, used for choosing), e.g. ("tuning", True), ("held-out", False)
    # For each grid point, best first by the choice's merit: {column: {kind: (hits@1, hits@k, hits@10)}}.
    rows: tuple[tuple[Weights, dict[str, dict[str, tuple[int, ...]]]], ...]
    halves: dict[str, dict[str, dict[str, tuple[int, ...]]]]  # column -> "vector" | "text" -> kind -> hits
    calibration: tuple[float, ...]  # percentiles of the tuning half's vector similarities
    shortfalls: dict[Weights, int] = field(default_factory=dict)  # the largest shortfall on tuning data


def tune(candidates: Sequence[Candidates], chunks: dict[str, ChunkInfo], *, k: int = 5,
         grid: Sequence[Weights] = TUNING_GRID,
         also: Sequence[tuple[str, Sequence[Candidates], dict[str, ChunkInfo]]] = ()) -> Tuning:
    """The fusion weights chosen on tuning data alone — the *tuning* half of ``candidates``'s set,
    plus the sets in ``also`` (label, candidates, chunks; the small set) — and every grid point's
    figures on the held-out half too, to report the chosen one there.

    Chosen to make fusion as near as it gets to never worse than its better half: the point whose
    largest shortfall (hits below the better half at 1, k and 10, over each kind of each tuning set)
    is smallest; then the one below its halves in the fewest figures (shortfalls added up); then by
    its grid neighbours' largest shortfall (a point on a plateau, where a nudge of any weight keeps
    fusion at its halves, rather than a lucky peak); then by the hits its neighbours and it add up. On 16 questions a figure moves by a question for a nudge of a
    weight; the weights that hold around them are the ones that hold. The calibration is
    ``fusion.percentiles`` of the tuning half's vector similarities."""
    ks = (1, k, 10)
    columns = [("tuning", candidates, chunks, "tuning"), ("held-out", candidates, chunks, "held-out"),
               *((label, extra, extra_chunks, None) for label, extra, extra_chunks in also)]

    def hits(ranker: Ranker, column) -> dict[str, tuple[int, ...]]:
        _, chosen, known, half = column
        counts = {kind: [0] * len(ks) for kind in KINDS}
        for candidate in chosen:
            if half is not None and candidate.question.half != half:
                continue
            ranking = ranker(candidate)
            for at, cut in enumerate(ks):
                counts[candidate.question.kind][at] += is_hit(candidate.question, ranking, known, cut)
        return {kind: tuple(values) for kind, values in counts.items()}

    halves = {column[0]: {"vector": hits(rank_vector, column), "text": hits(rank_text, column)} for column in columns}
    figures = {weights: {column[0]: hits(score_fusion_ranker(weights), column) for column in columns}
               for weights in dict.fromkeys(grid)}
    choosing = [label for label, *_ in columns if label != "held-out"]

    def gaps(weights: Weights) -> list[int]:
        return [figures[weights][label][kind][cut]
                - max(halves[label]["vector"][kind][cut], halves[label]["text"][kind][cut])
                for label in choosing for kind in KINDS for cut in range(len(ks))]

    def added(weights: Weights) -> int:
        return sum(sum(figures[weights][label][kind]) for label in choosing for kind in KINDS)

    every_gap = {weights: gaps(weights) for weights in figures}
    shortfalls = {weights: min(found) for weights, found in every_gap.items()}
    missed = {weights: sum(gap for gap in found if gap < 0) for weights, found in every_gap.items()}
    total = {weights: added(weights) for weights in figures}

    def merit(weights: Weights) -> tuple:
        around = [n for n in _neighbours(weights) if n in figures] or [weights]
        return (shortfalls[weights], missed[weights], min(shortfalls[n] for n in around),
                sum(total[n] for n in around) / len(around), total[weights])

    ranked = sorted(figures, key=merit, reverse=True)
    similarities = [similarity for c in candidates if c.question.half == "tuning" for _, similarity in c.vector]
    return Tuning(weights=ranked[0], columns=tuple((label, label != "held-out") for label, *_ in columns),
                  rows=tuple((weights, figures[weights]) for weights in ranked), halves=halves,
                  calibration=percentiles(similarities), shortfalls=shortfalls)


def format_tuning(tuning: Tuning, *, k: int = 5, shown: int = 15) -> str:
    """The halves' hits @1/@k/@10 per kind on each column, then the ``shown`` best grid points
    (the chosen first) and the best constant weight, each with its largest shortfall on tuning data."""
    def cells(values: dict[str, dict[str, tuple[int, ...]]]) -> str:
        return "".join(f"{'/'.join(str(v) for v in values[label][kind]):>16}" for label, _ in tuning.columns
                       for kind in KINDS)

    width = 52
    header = f"{'weights':<{width}}{'short':>6}" + "".join(f"{f'{label[:8]} {kind[:4]}.':>16}"
                                                        for label, _ in tuning.columns for kind in KINDS)
    used = ", ".join(label for label, choosing in tuning.columns if choosing)
    lines = [f"Hits @1/@{k}/@10 per kind (chosen on: {used}; never on the held-out half):", header, "-" * len(header)]
    for mode in ("vector", "text"):
        lines.append(f"{mode + ' half':<{width}}{'':>6}"
                     + cells({label: tuning.halves[label][mode] for label, _ in tuning.columns}))
    rows = list(tuning.rows[:shown])
    constant = next((row for row in tuning.rows if row[0].low == row[0].high), None)
    if constant is not None and constant not in rows:
        rows.append(constant)
    for weights, figures in rows:
        mark = "  <- chosen" if weights == tuning.weights else ("  (best constant weight)" if constant and weights is constant[0] else "")
        lines.append(f"{str(weights):<{width}}{tuning.shortfalls.get(weights, 0):>6}" + cells(figures) + mark)
    w = tuning.weights
    lines.append(f"\nChosen: Weights({w.low:g}, {w.high:g}, {w.share_low:g}, {w.share_high:g}, vector_power={w.vector_power:g})"
                 f" of {len(tuning.rows)} grid points")
    lines.append(f"\nCalibration (percentiles 0, 5, ..., 100 of the tuning half's vector similarities):\n"
                 f"{', '.join(f'{v:.4f}' for v in tuning.calibration)}")
    return "\n".join(lines)


def format_table(table: Table, *, ks: Sequence[int] = (5, 10)) -> str:
    """Rows of kind × mode, a column per k: ``recall (hits/questions)``."""
    modes = list(dict.fromkeys(mode for _, mode, _ in table))
    width = max(len(mode) for mode in modes) + 2
    header = f"{'questions':<13}{'mode':<{width}}" + "".join(f"{f'recall@{k}':>15}" for k in ks)
    lines = [header, "-" * len(header)]
    for kind in KINDS:
        for mode in modes:
            cells = "".join(f"{_cell(table[(kind, mode, k)]):>15}" for k in ks)
            lines.append(f"{kind:<13}{mode:<{width}}{cells}")
    return "\n".join(lines)


def _cell(value: Recall) -> str:
    return f"{value} ({value.hits}/{value.total})"


def format_grid(rows: Sequence[tuple[object, dict[str, Recall]]], *, label: str, k: int) -> str:
    header = f"{label:<16}" + "".join(f"{f'{kind}@{k}':>17}" for kind in KINDS)
    lines = [header, "-" * len(header)]
    for setting, values in rows:
        name = f"{setting[0]:g} / {setting[1]:g}" if isinstance(setting, tuple) else f"{setting:g}"
        lines.append(f"{name:<16}" + "".join(f"{_cell(values[kind]):>17}" for kind in KINDS))
    return "\n".join(lines)
