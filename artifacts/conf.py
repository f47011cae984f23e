"""Artifact settings, read with their defaults (the lead lists them in config/settings.py)."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Capture answers' blocks as artifacts when an answer is stored (off: the chat works as before).
    "ARTIFACTS_CAPTURE": True,
    # The size floor: an unnamed block under this many characters and under ARTIFACTS_MIN_LINES
    # lines stays in the message only (a named block is always kept: the agent meant it).
    "ARTIFACTS_MIN_CHARS": 80,
    "ARTIFACTS_MIN_LINES": 3,
    # A Markdown block becomes a MARKDOWN artifact only from this many characters (or when named).
    "ARTIFACTS_MARKDOWN_MIN_CHARS": 400,
    # Content above this many bytes is kept in the storage (storage_files, usage ARTIFACT).
    "ARTIFACTS_INLINE_MAX_BYTES": 1024 * 1024,
    # The largest artifact accepted at all (a paste, an edit, an answer's block).
    "ARTIFACTS_MAX_BYTES": 10 * 1024 * 1024,
    # The largest image (decoded data URL or SVG) accepted.
    "ARTIFACTS_IMAGE_MAX_BYTES": 5 * 1024 * 1024,
    # Artifacts per page of /artifacts/.
    "ARTIFACTS_PAGE_SIZE": 30,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
