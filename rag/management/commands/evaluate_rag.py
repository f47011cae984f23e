"""Measure retrieval quality on the built-in question set (see ``rag/evaluation.py``)."""

from __future__ import annotations

import argparse
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from accounts.models import User
from rag import evaluation
from rag.embedders import available_embedders, get_embedder
from rag.errors import EmbeddingError

HELP = """\
Measure retrieval quality on the built-in question set (rag/tests/data/eval_corpus.json: 31 personal
documents, 5 of them in Spanish, and 60 questions, 30 worded with the documents' own words
("lexical") and 30 paraphrased).

Creates a throwaway user, indexes the corpus for it synchronously with the chosen embedder, asks
every question, and prints recall@5 and @10 (a question is found when a chunk of its document is
among the first k passages) for each kind of question and each mode: the vector half, the
full-text half, hybrid as retrieve() does it (weighted reciprocal-rank fusion with
RAG_FUSION_VECTOR_WEIGHT / RAG_FUSION_TEXT_WEIGHT) and, for comparison, score fusion (min-max
normalised cosine similarity and full-text rank). The user and all its data are deleted at the end.

  --grid      also hybrid recall@K for several fusion weight pairs, and score fusion per text weight
  --variants  also candidate improvements: query expansion for the full-text half, and static token
              vectors distilled from the local sentence-transformers model in place of the vector
              half (needs requirements-ml.txt; about 30 s)
  -v 2        also list the questions each mode misses at K

Examples:
  manage.py evaluate_rag --grid
  HF_HUB_OFFLINE=1 manage.py evaluate_rag --embedder sentence-transformers --grid
"""


class _Formatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option ordering, with the description's line breaks kept."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _Formatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--embedder", help="offline | openai | sentence-transformers (default: EMBEDDER).")
        parser.add_argument("--k", type=int, default=5, help="Cut-off for the grids and the misses (default 5).")
        parser.add_argument("--grid", action="store_true", help="Also print recall for several fusion weights.")
        parser.add_argument("--variants", action="store_true", help="Also measure candidate improvements.")

    def handle(self, *args, embedder=None, k=5, grid=False, variants=False, verbosity=1, **options):
        if k < 1:
            raise CommandError("--k must be at least 1")
        name = embedder or settings.EMBEDDER
        reason = available_embedders().get(name, f"unknown embedder {name!r}")
        if reason:
            raise CommandError(f"embedder {name!r} is not usable: {reason}")
        corpus = evaluation.load_corpus()
        user = User.objects.create_user(f"evaluate-rag-{uuid.uuid4().hex[:12]}@example.invalid", None)
        try:
            self._run(user, corpus, name, k=k, grid=grid, variants=variants, verbosity=verbosity)
        except EmbeddingError as exc:
            raise CommandError(exc.message) from exc
        finally:
            user.delete()  # the database cascades to its documents, chunks and vectors

    def _run(self, user, corpus, name: str, *, k: int, grid: bool, variants: bool, verbosity: int) -> None:
        ks = sorted({5, 10, k})
        started = time.monotonic()
        indexed = evaluation.index_corpus(user, corpus, embedder_name=name)
        indexing = time.monotonic() - started
        started = time.monotonic()
        candidates = evaluation.collect_candidates(indexed)
        asking = time.monotonic() - started
        lexical, paraphrased = (len(corpus.of_kind(kind)) for kind in evaluation.KINDS)
        self.stdout.write(
            f"Embedder {get_embedder(name).name}: {len(corpus.documents)} documents ({len(indexed.chunks)} chunks) "
            f"indexed in {indexing:.1f}s; {len(corpus.questions)} questions ({lexical} lexical, {paraphrased} "
            f"paraphrased) asked of both halves in {asking:.1f}s.\n"
        )
        rankers = self._rankers()
        self.stdout.write(evaluation.format_table(evaluation.evaluate(candidates, indexed.chunks, ks=ks, rankers=rankers),
                                                  ks=ks))
        if verbosity >= 2:
            self._misses(candidates, indexed, rankers, k)
        if grid:
            self.stdout.write(f"\nHybrid (weighted RRF), recall@{k} by vector weight / text weight:")
            self.stdout.write(evaluation.format_grid(evaluation.weight_grid(candidates, indexed.chunks, k=k),
                                                     label="weights", k=k))
            self.stdout.write(f"\nScore fusion, recall@{k} by text weight:")
            self.stdout.write(evaluation.format_grid(evaluation.score_grid(candidates, indexed.chunks, k=k),
                                                     label="text weight", k=k))
        if variants:
            self._variants(indexed, candidates, rankers, ks)

    @staticmethod
    def _rankers() -> dict[str, evaluation.Ranker]:
        rrf = evaluation.RECOMMENDED_RRF_WEIGHTS
        return {
            "vector": evaluation.mode_ranker("vector"),
            "text": evaluation.mode_ranker("text"),
            f"hybrid (score fusion {settings.RAG_FUSION_TEXT_WEIGHT:g})": evaluation.mode_ranker("hybrid"),
            f"RRF {rrf[0]:g}/{rrf[1]:g} (alternative)": evaluation.rrf_ranker(*rrf),
        }

    def _misses(self, candidates, indexed, rankers, k: int) -> None:
        self.stdout.write(f"\nMissed at {k}:")
        for mode, ranker in rankers.items():
            missed = evaluation.misses(candidates, ranker, indexed.chunks, k)
            self.stdout.write(f"  {mode}: {', '.join(q.id for q in missed) or 'none'}")
            for question in missed:
                self.stdout.write(f"      {question.id} [{question.document}] {question.question}")

    def _variants(self, indexed, candidates, rankers, ks) -> None:
        self.stdout.write("\nVariant: full-text half with query expansion (synonyms from the offline embedder's "
                          "concept groups):")
        expanded = evaluation.collect_candidates(indexed, text_query=evaluation.expand_query)
        self.stdout.write(evaluation.format_table(evaluation.evaluate(expanded, indexed.chunks, ks=ks, rankers=rankers),
                                                  ks=ks))
        self.stdout.write("\nVariant: vector half by static token vectors distilled from the local "
                          "sentence-transformers model (exact search in memory):")
        try:
            static = evaluation.distill_static_embedder()
        except EmbeddingError as exc:
            self.stdout.write(f"  skipped: {exc.message}")
            return
        distilled = evaluation.in_memory_vector_candidates(indexed, candidates, static)
        self.stdout.write(evaluation.format_table(evaluation.evaluate(distilled, indexed.chunks, ks=ks, rankers=rankers),
                                                  ks=ks))
