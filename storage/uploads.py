"""Upload safety shared by every upload path (files, documents, chat attachments).

* ``LimitedUploadHandler`` stops receiving a file as soon as it passes the limit (the body is
  not read on), and computes each file's SHA-256 while the bytes arrive.
* ``safe_file_name`` makes a name that is safe to store and to show: no directories, no control
  characters, no name that Windows reserves, at most 255 bytes of UTF-8 (extension kept).
* ``sniff_type`` tells the type from the first bytes (``puremagic``'s magic-number table, then
  text / HTML / SVG by content), never from the name or the browser's header.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import puremagic
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from core.text import strip_control_chars, truncate_utf8

DEFAULT_MIME_TYPE = "application/octet-stream"
NAME_MAX_BYTES = 255
FALLBACK_NAME = "document"
SNIFF_BYTES = 8192
# Device names Windows reserves, with or without an extension ("CON", "nul.txt", "COM1.log").
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
# Types a browser may show inline from our origin (nothing that runs script: no HTML, no SVG).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "application/pdf"})
IMAGE_TYPES = frozenset(t for t in INLINE_TYPES if t.startswith("image/"))
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@dataclass
class ReceivedFile:
    field_name: str
    file_name: str
    size: int
    checksum: str  # SHA-256, hex


class LimitedUploadHandler(FileUploadHandler):
    """Stops receiving a file as soon as it passes ``limit`` bytes (the body is not read on).

    Put it first (``request.upload_handlers.insert(0, guard)``) before anything reads the body;
    each completed file's size and SHA-256 are in ``received_files``, in upload order."""

    def __init__(self, request=None, *, limit: int, file_limit: int | None = None):
        super().__init__(request)
        self.limit = limit
        self.file_limit = file_limit  # bytes one file may have (None: only the total counts)
        self.received = 0
        self.exceeded = False
        self.exceeded_name = ""  # the file that went past ``file_limit``
        self.received_files: list[ReceivedFile] = []
        self._digest = None
        self._size = 0

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self._digest, self._size = hashlib.sha256(), 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        if self._digest is not None:
            self._digest.update(raw_data)
            self._size += len(raw_data)
            if self.file_limit is not None and self._size > self.file_limit:
                self.exceeded, self.exceeded_name = True, self.file_name or ""
                raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        if self._digest is not None:
            self.received_files.append(ReceivedFile(self.field_name, self.file_name, self._size, self._digest.hexdigest()))
            self._digest = None
        return None

    def checksum_for(self, uploaded, index: int) -> str | None:
        """The SHA-256 computed for the ``index``-th file received, when it is ``uploaded``."""
        if index < len(self.received_files):
            received = self.received_files[index]
            if received.size == uploaded.size:
                return received.checksum
        return None


def safe_file_name(raw: str | None) -> str:
    """The name without directories or control characters, not a reserved device name, at most
    255 UTF-8 bytes keeping its extension when it has to be cut; "document" when nothing is left."""
    name = _CONTROL.sub("", strip_control_chars((raw or "").replace("\\", "/"))).rsplit("/", 1)[-1].strip().rstrip(". ")
    if not name:
        name = FALLBACK_NAME
    if _RESERVED.match(name):
        name = f"_{name}"
    if len(name.encode()) <= NAME_MAX_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode()) > 20:
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    return truncate_utf8(stem, NAME_MAX_BYTES - len(suffix.encode())).rstrip() + suffix


def name_problem(raw: str) -> str | None:
    """Why ``raw`` cannot be a name typed by its owner (rename, new folder), or None. The messages
    are translated by the caller's form; see ``storage.forms``."""
    if not raw or not raw.strip():
        return "empty"
    if "/" in raw or "\\" in raw:
        return "separator"
    if _CONTROL.search(raw):
        return "control"
    if raw.strip() in (".", ".."):
        return "dots"
    if _RESERVED.match(raw.strip()):
        return "reserved"
    if len(raw.strip().encode()) > NAME_MAX_BYTES:
        return "length"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            return False
    return True


def sniff_type(head: bytes, name: str = "") -> str:
    """The MIME type of content starting with ``head`` (the first ``SNIFF_BYTES``), by its bytes."""
    if not head:
        return "text/plain"  # empty
    lowered = head[:1024].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body", b"<iframe")):
        return "text/html"
    if b"<svg" in lowered[:1024] and (lowered.startswith(b"<?xml") or lowered.startswith(b"<svg") or b"<!doctype svg" in lowered):
        return "image/svg+xml"
    try:
        matches = puremagic.magic_string(head, filename=name or None)
    except puremagic.PureError:
        matches = []
    except Exception:  # the table may choke on odd input; the content then counts as unknown
        matches = []
    if matches:
        suffix = PurePosixPath(name).suffix.lower()
        for match in matches:
            if suffix and match.extension == suffix and match.mime_type:
                return match.mime_type
        for match in matches:
            if match.mime_type:
                return match.mime_type
    if _looks_like_text(head):
        if b"<html" in lowered or b"<script" in lowered:
            return "text/html"
        suffix = PurePosixPath(name).suffix.lower()
        return {".csv": "text/csv", ".md": "text/markdown", ".json": "application/json"}.get(suffix, "text/plain")
    return DEFAULT_MIME_TYPE
