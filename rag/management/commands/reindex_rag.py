"""Re-index documents (all, or one user's), optionally with another embedder.

Changing embedder: run ``reindex_rag --embedder NAME`` and then set ``EMBEDDER=NAME``; queries
only search vectors made by the configured embedder (full-text search covers the rest meanwhile).
A vector's id is its chunk's (document and position), whichever embedder made it, so re-indexing a
document overwrites its old embedder's vectors and deletes those of chunks it no longer has, in
pgvector and in Pinecone alike: nothing of a previous (or retired) embedder is left behind.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from core.tenancy import tenant
from rag.embedders import EMBEDDERS, embedder_problem
from rag.errors import EmbeddingError, VectorStoreError
from rag.indexing import index_document
from rag.models import RagDocument, Status
from rag.tasks import compact_vectors_later


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Re-index RAG documents with the configured (or the given) embedder, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's documents (email).")
        parser.add_argument("--embedder", help=f"{' | '.join(EMBEDDERS)} (default: EMBEDDER).")

    def handle(self, *args, user=None, embedder=None, **options):
        if embedder:
            reason = embedder_problem(embedder)
            if reason:
                raise CommandError(f"embedder {embedder!r} is not usable: {reason}")
        users = User.objects.order_by("email")
        if user:
            users = users.filter(email=User.objects.normalize_email(user))
            if not users.exists():
                raise CommandError(f"no user with email {user}")
        work = []
        for owner in users:
            with tenant(owner.id):
                work += [(owner.id, doc_id) for doc_id in RagDocument.objects.filter(user=owner).values_list("id", flat=True)]
        total, failed = len(work), 0
        started = time.monotonic()
        interactive = sys.stdout.isatty()
        for done, (owner_id, document_id) in enumerate(work, start=1):
            try:
                document = index_document(user_id=owner_id, document_id=document_id, embedder_name=embedder)
                failed += bool(document and document.status == Status.FAILED)
                if document is not None and document.status == Status.INDEXED:
                    compact_vectors_later(owner_id)
            except (EmbeddingError, VectorStoreError) as exc:
                failed += 1
                self.stderr.write(f"\n{document_id}: {exc.message}")
            line = f"{_bar(done, total)}  {done / max(time.monotonic() - started, 1e-6):.1f} doc/s"
            self.stdout.write(f"\r{line}" if interactive else line, ending="" if interactive else "\n")
        if interactive:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"re-indexed {total - failed} of {total} document(s) in {time.monotonic() - started:.1f}s; {failed} failed"
        ))
