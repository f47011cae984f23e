"""What every format's extractor shares: the result and the caps one extraction runs under."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..errors import LimitExceeded


@dataclass(frozen=True)
class ExtractedDocument:
    text: str
    title: str
    format: str


@dataclass(frozen=True)
class Limits:
    """The caps one extraction runs under; ``deadline`` is a ``time.monotonic()`` value."""

    max_chars: int
    max_unpacked_bytes: int
    max_ratio: int
    max_pages: int
    time_limit: float
    deadline: float

    @classmethod
    def from_settings(cls, *, max_chars: int | None = None) -> Limits:
        """The configured caps; ``max_chars`` may lower the characters cap (never raise it)."""
        chars = settings.RAG_MAX_DOCUMENT_CHARS if max_chars is None else min(max_chars, settings.RAG_MAX_DOCUMENT_CHARS)
        seconds = settings.RAG_EXTRACTION_TIME_LIMIT
        return cls(max_chars=max(chars, 0), max_unpacked_bytes=settings.RAG_MAX_UNPACKED_BYTES,
                   max_ratio=settings.RAG_MAX_COMPRESSION_RATIO, max_pages=settings.RAG_MAX_PDF_PAGES,
                   time_limit=seconds, deadline=time.monotonic() + seconds)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                _("Reading this document took longer than %(seconds)s seconds, so it was stopped. "
                  "Split it into smaller documents.") % {"seconds": number_format(self.time_limit, 0)},
                kind="time",
            )

    def check_chars(self, count: int) -> None:
        if count > self.max_chars:
            raise LimitExceeded(
                _("This document has more than %(limit)s characters of text, so reading it was stopped. "
                  "Split it into smaller documents.") % {"limit": number_format(self.max_chars, force_grouping=True)},
                kind="characters",
            )

    def check_unpacked(self, size: int) -> None:
        if size > self.max_unpacked_bytes:
            raise LimitExceeded(
                _("This file unpacks to more than %(limit)s, so it was not read.")
                % {"limit": filesizeformat(self.max_unpacked_bytes)},
                kind="unpacked",
            )
