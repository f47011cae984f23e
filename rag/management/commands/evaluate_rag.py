"""Measure retrieval quality on a built-in question set (``--set``), or one given with ``--corpus`` (see ``rag/evaluation.py``)."""

from __future__ import annotations

import argparse
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from accounts.models import User
from rag import evaluation, fusion
from rag.embedders import EMBEDDERS, embedder_problem, get_embedder
from rag.errors import EmbeddingError

HELP = """\
Measure retrieval quality on a question set: a built-in one chosen with --set, or another of the
same shape given with --corpus.

  --set small    (default) rag/data/eval_corpus.json: 31 personal documents, 5 of them in Spanish,
                 and 60 questions, 30 worded with the documents' own words ("lexical") and 30
                 paraphrased
  --set library  rag/data/library/: 60 pages of the Python documentation (about 3,600 chunks) and
                 64 questions (32 lexical, 32 paraphrased) written before any tuning, split into a
                 tuning half and a held-out half, each reported on its own
  --set django   rag/data/django/: 50 pages of Django 3.2's documentation and 50 questions (25
                 lexical, 25 paraphrased) written by someone who had seen neither the code nor any
                 figure, after every choice was made; never used for tuning

Creates a throwaway user, indexes the corpus for it synchronously with the chosen embedder, asks
every question, and prints recall@1, @5 and @10 (a question is found when a chunk of its document
is among the first k passages) for each kind of question and each mode: the vector half, the
full-text half, and hybrid as retrieve() does it. The user and all its data are deleted at the end.

  --corpus       a question set in the small one's JSON shape (documents with key, title, language
                 and Markdown text; questions with id, kind, question, document, section and
                 optionally half), or a folder in the library set's shape
  --embedder     may be given several times: each embedder is measured in turn
  --documents    only these documents (comma-separated keys) and the questions about them
  --runs N       index and ask N times, each time for a new user (new documents, new ids, new
                 rows); fail unless every run gives the same figures, and say whether every
                 question's top 10 came in the same order too
  --tune         choose the fusion weights on tuning data only (the set's tuning half and the
                 small set; never the held-out half) among a grid (rag/evaluation.py,
                 TUNING_GRID): the point whose largest shortfall below the better half, at
                 recall@1, @K and @10 over each kind of question, is smallest, then whose grid
                 neighbours' is; print the best points' hits on the tuning half, the held-out
                 half and the small set, the best constant weight, and the embedder's similarity
                 percentiles (the calibration of the relevance threshold, rag/fusion.py)
  --grid         also hybrid recall@K for several fusion text weights
  -v 2           also list the questions each mode misses at K

Examples:
  manage.py evaluate_rag --grid
  manage.py evaluate_rag --set library --runs 3
  manage.py evaluate_rag --corpus my_questions.json --embedder static
  HF_HUB_OFFLINE=1 manage.py evaluate_rag --set library --embedder static --embedder sentence-transformers
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
        parser.add_argument("--embedder", action="append", dest="embedders", metavar="EMBEDDER",
                            help=f"{' | '.join(EMBEDDERS)} (default: EMBEDDER); "
                                 "may be given several times.")
        parser.add_argument("--k", type=int, default=5, help="Cut-off for the grids and the misses (default 5).")
        parser.add_argument("--grid", action="store_true", help="Also print recall for several fusion text weights.")
        parser.add_argument("--set", dest="set_name", choices=sorted(evaluation.SETS), default="small",
                            help="A built-in question set: small (default), library or django.")
        parser.add_argument("--corpus", help="Another question set: a JSON file, or a folder in the library set's shape.")
        parser.add_argument("--documents", default="", help="Only these documents (comma-separated keys).")
        parser.add_argument("--tune", action="store_true",
                            help="Choose the fusion weights on tuning data only; print the best grid points on both halves.")
        parser.add_argument("--runs", type=int, default=1,
                            help="Index and ask this many times (a new user each time); fail unless the figures agree.")

    def handle(self, *args, embedders=None, k=5, grid=False, set_name="small", corpus=None, documents="", runs=1,
               tune=False, verbosity=1, **options):
        if k < 1:
            raise CommandError("--k must be at least 1")
        if runs < 1:
            raise CommandError("--runs must be at least 1")
        names = list(dict.fromkeys(embedders or [settings.EMBEDDER]))
        for name in names:
            reason = embedder_problem(name)
            if reason:
                raise CommandError(f"embedder {name!r} is not usable: {reason}")
        source = corpus or evaluation.SETS[set_name]
        try:
            questions = evaluation.load_corpus(source)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"cannot read the question set {source}: {exc}") from exc
        if documents:
            keys = [key.strip() for key in documents.split(",") if key.strip()]
            unknown = sorted(set(keys) - {d.key for d in questions.documents})
            if unknown:
                raise CommandError(f"no such document in the set: {', '.join(unknown)}")
            questions = questions.select(keys)
        for name in names:
            signatures = []
            for run in range(1, runs + 1):
                if runs > 1:
                    self.stdout.write(f"\n=== Run {run} of {runs} ===")
                signatures.append(self._run_once(questions, name, k=k, grid=grid and run == 1, verbosity=verbosity,
                                                 tune=tune and run == 1))
            if runs > 1:
                self._compare_runs(name, signatures)

    def _run_once(self, corpus, name: str, *, k: int, grid: bool, verbosity: int, tune: bool = False):
        user = User.objects.create_user(f"evaluate-rag-{uuid.uuid4().hex[:12]}@example.invalid", None)
        try:
            return self._run(user, corpus, name, k=k, grid=grid, verbosity=verbosity, tune=tune)
        except EmbeddingError as exc:
            raise CommandError(exc.message) from exc
        finally:
            user.delete()  # the database cascades to its documents, chunks and vectors

    def _compare_runs(self, name: str, results: list) -> None:
        """Fail unless every run gave the same figures; say whether the rankings were the same too."""
        runs = len(results)
        figures, rankings = results[0]
        moved = sorted({key for other, _ in results[1:] for key in figures.keys() | other.keys()
                        if figures.get(key) != other.get(key)})
        if moved:
            listed = ", ".join(f"{half or 'all'} {kind} {mode} @{k}" for half, kind, mode, k in moved[:12])
            raise CommandError(f"embedder {name}: the figures moved between the {runs} runs: {listed}")
        reordered = sorted({key for _, other in results[1:] for key in rankings.keys() | other.keys()
                            if rankings.get(key) != other.get(key)})
        if reordered:
            listed = ", ".join(f"{question} ({mode})" for question, mode in reordered[:20])
            self.stdout.write(f"\nEmbedder {name}: every figure is the same in the {runs} runs, but the top 10 of "
                              f"{len(reordered)} question(s) came in another order in some run: {listed}")
        else:
            self.stdout.write(f"\nEmbedder {name}: the {runs} runs gave the same figures and ranked every question "
                              f"identically (top 10 of every mode).")

    def _run(self, user, corpus, name: str, *, k: int, grid: bool, verbosity: int, tune: bool = False):
        ks = sorted({1, 5, 10, k})
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
        rankers = self._rankers(name)
        halves = corpus.halves()
        figures = {}
        for half in (None, *halves) if halves else (None,):
            if halves:
                count = sum(1 for q in corpus.questions if half is None or q.half == half)
                self.stdout.write(f"\n{'All questions' if half is None else f'The {half} half'} ({count}):")
            table = evaluation.evaluate(candidates, indexed.chunks, ks=ks, rankers=rankers, half=half)
            self.stdout.write(evaluation.format_table(table, ks=ks))
            figures.update({(half, *key): (value.hits, value.total) for key, value in table.items()})
        if verbosity >= 2:
            self._misses(candidates, indexed, rankers, k)
        if tune:
            if "tuning" not in halves:  # the Django set is held-out only: nothing in it may be tuned on
                raise CommandError("--tune needs a set split into a tuning and a held-out half (--set library)")
            also = self._small_set_candidates(name)
            self.stdout.write(f"\nFusion weights chosen on tuning data only ({get_embedder(name).name}):")
            self.stdout.write(evaluation.format_tuning(evaluation.tune(candidates, indexed.chunks, k=k, also=also), k=k))
        if grid:
            for half in (None, *halves) if halves else (None,):
                label = "" if half is None else f" ({half} half)"
                self.stdout.write(f"\nHybrid (score fusion), recall@{k} by text weight{label}:")
                self.stdout.write(evaluation.format_grid(evaluation.score_grid(candidates, indexed.chunks, k=k, half=half),
                                                         label="text weight", k=k))
        return figures, evaluation.ranking_signature(candidates, indexed.chunks, rankers)

    @staticmethod
    def _small_set_candidates(name: str):
        """The small set's candidates (all of it tuning data), indexed for a user of their own."""
        user = User.objects.create_user(f"evaluate-rag-{uuid.uuid4().hex[:12]}@example.invalid", None)
        try:
            small = evaluation.index_corpus(user, evaluation.load_corpus(evaluation.CORPUS_PATH), embedder_name=name)
            return [("small set", evaluation.collect_candidates(small), small.chunks)]
        finally:
            user.delete()

    @staticmethod
    def _rankers(name: str) -> dict[str, evaluation.Ranker]:
        return {
            "vector": evaluation.mode_ranker("vector"),
            "text": evaluation.mode_ranker("text"),
            f"hybrid ({fusion.weights_for(name)})": evaluation.mode_ranker("hybrid"),
        }

    def _misses(self, candidates, indexed, rankers, k: int) -> None:
        self.stdout.write(f"\nMissed at {k}:")
        for mode, ranker in rankers.items():
            missed = evaluation.misses(candidates, ranker, indexed.chunks, k)
            self.stdout.write(f"  {mode}: {', '.join(q.id for q in missed) or 'none'}")
            for question in missed:
                self.stdout.write(f"      {question.id} [{question.document}] {question.question}")
