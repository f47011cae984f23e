"""Measure retrieval quality on the built-in question set, or one given with ``--corpus`` (see ``rag/evaluation.py``)."""

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
Measure retrieval quality on a question set: by default the built-in one (rag/data/eval_corpus.json:
31 personal documents, 5 of them in Spanish, and 60 questions, 30 worded with the documents' own
words ("lexical") and 30 paraphrased), or another of the same shape given with --corpus.

Creates a throwaway user, indexes the corpus for it synchronously with the chosen embedder, asks
every question, and prints recall@5 and @10 (a question is found when a chunk of its document is
among the first k passages) for each kind of question and each mode: the vector half, the
full-text half, and hybrid as retrieve() does it (score fusion: min-max normalised cosine
similarity and full-text rank, weighted by RAG_FUSION_TEXT_WEIGHT). The user and all its data are
deleted at the end.

  --corpus    a question set in the built-in one's JSON shape (documents with key, title, language
              and Markdown text; questions with id, kind, question, document and section)
  --grid      also hybrid recall@K for several fusion text weights
  -v 2        also list the questions each mode misses at K

Examples:
  manage.py evaluate_rag --grid
  manage.py evaluate_rag --corpus my_questions.json --embedder offline
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
        parser.add_argument("--grid", action="store_true", help="Also print recall for several fusion text weights.")
        parser.add_argument("--corpus", default=str(evaluation.CORPUS_PATH),
                            help="The question set, a JSON file (default: the built-in rag/data/eval_corpus.json).")

    def handle(self, *args, embedder=None, k=5, grid=False, corpus=None, verbosity=1, **options):
        if k < 1:
            raise CommandError("--k must be at least 1")
        name = embedder or settings.EMBEDDER
        reason = available_embedders().get(name, f"unknown embedder {name!r}")
        if reason:
            raise CommandError(f"embedder {name!r} is not usable: {reason}")
        try:
            questions = evaluation.load_corpus(corpus or evaluation.CORPUS_PATH)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"cannot read the question set {corpus}: {exc}") from exc
        user = User.objects.create_user(f"evaluate-rag-{uuid.uuid4().hex[:12]}@example.invalid", None)
        try:
            self._run(user, questions, name, k=k, grid=grid, verbosity=verbosity)
        except EmbeddingError as exc:
            raise CommandError(exc.message) from exc
        finally:
            user.delete()  # the database cascades to its documents, chunks and vectors

    def _run(self, user, corpus, name: str, *, k: int, grid: bool, verbosity: int) -> None:
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
            self.stdout.write(f"\nHybrid (score fusion), recall@{k} by text weight:")
            self.stdout.write(evaluation.format_grid(evaluation.score_grid(candidates, indexed.chunks, k=k),
                                                     label="text weight", k=k))

    @staticmethod
    def _rankers() -> dict[str, evaluation.Ranker]:
        return {
            "vector": evaluation.mode_ranker("vector"),
            "text": evaluation.mode_ranker("text"),
            f"hybrid (score fusion {settings.RAG_FUSION_TEXT_WEIGHT:g})": evaluation.mode_ranker("hybrid"),
        }

    def _misses(self, candidates, indexed, rankers, k: int) -> None:
        self.stdout.write(f"\nMissed at {k}:")
        for mode, ranker in rankers.items():
            missed = evaluation.misses(candidates, ranker, indexed.chunks, k)
            self.stdout.write(f"  {mode}: {', '.join(q.id for q in missed) or 'none'}")
            for question in missed:
                self.stdout.write(f"      {question.id} [{question.document}] {question.question}")
