"""Refuse oversized uploads before reading them whole: the storage domain's guard, shared by every
upload path (``storage.uploads``)."""

from __future__ import annotations

from storage.uploads import LimitedUploadHandler, declared_length

__all__ = ["LimitedUploadHandler", "declared_length"]
