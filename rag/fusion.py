"""Fusing the two halves of retrieval, with weights and a relevance threshold per embedder.

**Score fusion.** ``score = (1 - w) · v + w · t``: ``v`` is the passage's cosine similarity min-max
normalised over the vector half's candidates (raised to the embedder's ``vector_power``), ``t``
its BM25 score divided by the question's *ceiling* — the most any chunk could score for it, its terms' ``IDF · (k1 + 1)`` added up — so a
passage counts for the share of the question it matches, and a text half whose best hit matches only
common words weighs little (dividing by the best hit made that hit a perfect match whatever it
matched). 0 for a half that missed the passage. Reciprocal-rank fusion keeps only each half's
order and lost to this on every set we measured (docs/decisions.md).

**The text weight ``w`` follows the question's word match** (``Weights.text_weight``). The share of
the question its best BM25 passage matches says how the question is worded: a question in the
documents' own words usually has a passage matching half of it (median 0.52 on the tuning data),
a paraphrase rarely more than a quarter (median 0.25). So ``w`` is ``low`` up to a
best share of ``share_low``, ``high`` from ``share_high`` on, and linear between: the word match
decides when the question's rare words are all in one passage, and the vector half when the
words only brush the documents. One weight for both kinds had to choose which kind to lose a
question on (docs/decisions.md, "Fusion, fifth pass").

**The vector half counts as the square root of its min-max share** (``vector_power`` 0.5): min-max
puts the nearest candidate at 1 and spreads the others linearly below, so two passages 0.004 apart
in cosine can sit 0.1 apart in fusion and the word match could not reorder them; the square root
keeps the near ones near each other and the far ones low.

**The weights depend on the embedder** (``weights_for``): how much the word match should count
depends on how good the vector half is. The weights in ``FUSION`` were chosen on tuning data
only — the library-scale set's tuning half and the small set (``manage.py evaluate_rag --set
library --tune``) — among a grid (``evaluation.TUNING_GRID``), as the point whose largest
shortfall below the better half (recall@1, @5 and @10, over each kind of question of each set)
is smallest, then with the fewest shortfalls, then whose grid neighbours' worst is best (a
plateau, not a lucky peak), then by hits; they are reported on the held-out half, never used to
choose. ``RAG_FUSION_TEXT_WEIGHTS`` (a dict,
embedder name → weight) replaces an embedder's text weight by a constant one.

**The threshold is a percentile, not a similarity.** Cosine similarities mean different things
per embedder (a question's 30 nearest passages score 0.24–0.82 with the static embedder, 0.26–0.84
with MiniLM, on the library set), so a raw floor that suits one removes everything or nothing with
another. The
retrieval settings' "minimum relevance" ``p`` (0 to 1) is read as a percentile of *that embedder's*
similarity distribution (``CALIBRATION``: the similarities of questions to their 30 nearest
passages, measured on the library set's tuning half): ``p = 0.5`` leaves out the passages less
similar to the question than the median of what a search usually returns among its 30 nearest,
``p = 0.9`` keeps only those in the top tenth. ``similarity_floor`` turns ``p`` into the
embedder's cosine floor (linear between the measured percentiles). An embedder without a
calibration (OpenAI's, a configured sentence-transformers model other than MiniLM's) gets the
nearest calibrated one's table: its help says so. The floor applies to the vector half; a
passage the lexical half finds by the question's words is kept, as before.

**At most three passages of one document before the others** (``diversify``). Recall is about
finding the right *document*: when one document fills the top five — a long page whose every
chunk shares the question's vocabulary, a cookbook next to the howto it extends — the right
document's best passage falls to sixth, whichever half put it there. So after fusion a
document's fourth and later passages wait until every other candidate has had its turn (they
keep their order, after the others). A question about one document still gets three of its
passages in a top five, and all of them when nothing else matched. The cap is a product choice
(three of the default five, so a question about one document keeps most of the context), not
tuned; the text weight was tuned with it in place (docs/decisions.md).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

PASSAGES_PER_DOCUMENT = 3


@dataclass(frozen=True)
class Weights:
    """One embedder's fusion weights (see the module docstring)."""

    low: float  # the text weight while the best word match covers at most share_low of the question
    high: float  # ... once it covers share_high or more
    share_low: float = 0.0
    share_high: float = 0.0
    vector_power: float = 1.0  # the vector half's min-max share is raised to this

    @classmethod
    def constant(cls, weight: float, *, vector_power: float = 1.0) -> Weights:
        return cls(weight, weight, 0.0, 0.0, vector_power)

    def text_weight(self, share: float) -> float:
        """The text weight for a question whose best BM25 passage matches ``share`` of it."""
        if self.low == self.high or share <= self.share_low:
            return self.low
        if share >= self.share_high:
            return self.high
        return self.low + (self.high - self.low) * (share - self.share_low) / (self.share_high - self.share_low)

    def __str__(self) -> str:
        power = "" if self.vector_power == 1 else f", vector^{self.vector_power:g}"
        if self.low == self.high:
            return f"text {self.low:g}{power}"
        return f"text {self.low:g}→{self.high:g} over share {self.share_low:g}→{self.share_high:g}{power}"


DEFAULT_WEIGHTS = Weights.constant(0.4)

# Chosen on tuning data only (evaluate_rag --set library --tune), with the ceiling and diversify in
# place; figures in docs/decisions.md. "openai" has no measurement here: it gets MiniLM's (both are
# dense sentence encoders).
FUSION: dict[str, Weights] = {
    "static": Weights(0.4, 0.8, 0.3, 0.4, vector_power=0.5),
    "sentence-transformers": Weights(0.5, 0.6, 0.45, 0.55, vector_power=0.5),
    "openai": Weights(0.5, 0.6, 0.45, 0.55, vector_power=0.5),
}

# Percentiles 0, 5, …, 100 of each embedder's cosine similarities between a question and its 30
# nearest passages (library set, tuning half, 32 questions × 30 passages).
CALIBRATION: dict[str, tuple[float, ...]] = {
    "static": (0.2405, 0.2701, 0.2994, 0.3274, 0.3546, 0.3757, 0.3971, 0.4117, 0.4244, 0.4401, 0.4587, 0.4700,
               0.4826, 0.4967, 0.5115, 0.526, 0.5443, 0.5679, 0.5965, 0.6826, 0.8207),
    "sentence-transformers": (0.2564, 0.3055, 0.3266, 0.3497, 0.363, 0.377, 0.39, 0.4004, 0.4087, 0.4194, 0.4329,
                              0.4403, 0.4512, 0.4632, 0.4758, 0.4944, 0.5096, 0.5371, 0.5784, 0.6384, 0.8372),
}
CALIBRATED_LIKE = {"openai": "sentence-transformers"}
PERCENTILE_STEP = 0.05

T = TypeVar("T")
Hit = tuple[str, float]
Fused = tuple[str, float, int | None, int | None, float | None]


def weights_for(embedder_name: str) -> Weights:
    """This embedder's fusion weights: the measured ones (or the default), with the setting's
    constant text weight instead when it names the embedder."""
    weights = FUSION.get(embedder_name, DEFAULT_WEIGHTS)
    overrides = getattr(settings, "RAG_FUSION_TEXT_WEIGHTS", None) or {}
    if embedder_name in overrides:
        return Weights.constant(float(overrides[embedder_name]), vector_power=weights.vector_power)
    return weights


def calibration_for(embedder_name: str) -> tuple[float, ...] | None:
    return CALIBRATION.get(embedder_name) or CALIBRATION.get(CALIBRATED_LIKE.get(embedder_name, ""))


def similarity_floor(percentile: float, embedder_name: str) -> float:
    """The cosine similarity below which this embedder's passages are left out, for a minimum
    relevance given as a percentile (0 keeps everything)."""
    if percentile <= 0:
        return float("-inf")
    table = calibration_for(embedder_name)
    if table is None:  # nothing measured: the value is taken as a similarity, as it always was
        return percentile
    position = min(percentile, 1.0) / PERCENTILE_STEP
    low = int(position)
    if low >= len(table) - 1:
        return table[-1]
    share = position - low
    return table[low] + share * (table[low + 1] - table[low])


def percentiles(values: Sequence[float], *, step: float = PERCENTILE_STEP) -> tuple[float, ...]:
    """The 0th, step-th, …, 100th percentiles of ``values`` (nearest rank, so each is a measured value)."""
    ordered = sorted(values)
    if not ordered:
        return ()
    count = round(1 / step)
    return tuple(round(ordered[min(len(ordered) - 1, max(0, math.ceil(i * step * len(ordered) - 1e-9) - 1))], 4)
                 for i in range(count + 1))


def percentile_of(similarity: float, embedder_name: str) -> float | None:
    """Where a similarity falls in this embedder's calibration (0 to 1), or None without one."""
    table = calibration_for(embedder_name)
    if table is None:
        return None
    return min(1.0, bisect_right(table, similarity) * PERCENTILE_STEP)


def fuse(vector_hits: Sequence[Hit], text_hits: Sequence[Hit], *, text_weight: float | Weights,
         threshold: float = float("-inf"), text_ceiling: float = 0.0) -> list[Fused]:
    """Score fusion (see the module docstring) → [(chunk id, score, vector rank, text rank,
    similarity)], best first; ties by vector rank, then text rank (BM25's own tie order), then id,
    so the order is stable. ``text_weight`` is an embedder's ``Weights`` or a constant text weight
    (0 and 1 rank by one half alone). ``threshold`` is a cosine floor for the vector half
    (``similarity_floor`` makes one from a percentile). ``text_ceiling`` is the question's BM25
    ceiling (``LexicalResult.ceiling``); without one (0) the scores are divided by the best hit's."""
    weights = text_weight if isinstance(text_weight, Weights) else Weights.constant(float(text_weight))
    best = max((score for _, score in text_hits), default=0.0)
    scale = text_ceiling if text_ceiling > 0 else best
    weight = weights.text_weight(min(1.0, best / scale) if scale > 0 else 0.0)
    entries: dict[str, list] = {}
    kept = [(chunk_id, similarity) for chunk_id, similarity in vector_hits if similarity >= threshold]
    if kept:
        high, low = max(s for _, s in kept), min(s for _, s in kept)
        for rank, (chunk_id, similarity) in enumerate(kept, start=1):
            normalised = (similarity - low) / (high - low) if high > low else 1.0
            entries[chunk_id] = [(1.0 - weight) * normalised ** weights.vector_power, rank, None, similarity]
    if scale > 0:
        for rank, (chunk_id, score) in enumerate(text_hits, start=1):
            entry = entries.setdefault(chunk_id, [0.0, None, None, None])
            entry[0] += weight * min(1.0, score / scale)
            entry[2] = rank
    ordered = sorted(entries.items(), key=lambda item: (-item[1][0], item[1][1] or 10**6, item[1][2] or 10**6, item[0]))
    return [(chunk_id, values[0], values[1], values[2], values[3]) for chunk_id, values in ordered]


def diversify(items: Sequence[T], document_of: Callable[[T], str], *,
              per_document: int = PASSAGES_PER_DOCUMENT) -> list[T]:
    """``items`` (best first) with each document's passages past its first ``per_document`` moved
    after every other item, keeping their order."""
    kept, later, counts = [], [], {}
    for item in items:
        document = document_of(item)
        seen = counts.get(document, 0)
        (kept if seen < per_document else later).append(item)
        counts[document] = seen + 1
    return kept + later
