"""Sending a stored file: streamed from the storage in pieces (never read whole), one byte range
when asked (``Range: bytes=a-b``, ``a-``, ``-n``: 206, or 416 when outside the file), and headers
that keep the browser from running it: ``Content-Disposition`` with an RFC 6266 ``filename*``,
``X-Content-Type-Options: nosniff`` and a sandboxing ``Content-Security-Policy``.

Callers check access first and write the access log (``storage.access.access_record``); the file
manager's views and the share-link views both send files through ``file_response``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_cache_control

from .backends import backend_name, blob_pieces, file_storage
from .models import StorageFile
from .uploads import INLINE_TYPES

logger = logging.getLogger("storage.serving")

STREAM_CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# No script, no form, no plugin, no fetch: the file is shown, never run.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
# Chromium refuses to render a PDF in a sandboxed document; a PDF still gets no script source,
# no connection and no framing by other sites.
PDF_CSP = "default-src 'none'; object-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def content_disposition(disposition: str, name: str) -> str:
    """``inline`` or ``attachment`` with an ASCII ``filename`` fallback and the exact UTF-8
    ``filename*`` (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in name) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single satisfiable range; None to send the whole file (no header,
    several ranges, or a syntax we ignore, as RFC 9110 allows); False when unsatisfiable."""
    match = _RANGE.match((header or "").strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return False
    return start, min(end, size - 1)


def _safe_headers(response, file: StorageFile, disposition: str, content_type: str) -> None:
    response["Content-Disposition"] = content_disposition(disposition, file.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PDF_CSP if content_type == "application/pdf" else SANDBOX_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{file.checksum}"'
    patch_cache_control(response, private=True, no_cache=True)


def file_response(request, file: StorageFile, *, inline: bool = False):
    """The response sending ``file``: inline only for types a browser shows without running them
    (images, PDF), as an attachment otherwise; a single range when the request asks for one."""
    content_type = file.mime_type if file.mime_type in INLINE_TYPES else "application/octet-stream"
    disposition = "inline" if inline and file.mime_type in INLINE_TYPES else "attachment"
    size = file.size
    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if wanted and if_range and if_range != f'"{file.checksum}"':
        wanted = ""  # the client's copy is another version: send it whole
    byte_range = parse_range(wanted, size) if wanted else None
    if byte_range is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        _safe_headers(response, file, disposition, content_type)
        return response
    if byte_range is None and backend_name() != "s3":
        # A local file: the server may hand it to sendfile (wsgi.file_wrapper).
        try:
            handle = file_storage().open(file.storage_path, "rb")
        except OSError as exc:  # the row outlived its blob (a restore without files, a lost disk)
            logger.error("blob of file %s is missing or unreadable: %s", file.pk, exc)
            raise Http404("blob missing") from exc
        response = FileResponse(handle, content_type=content_type)
        response.block_size = STREAM_CHUNK_BYTES  # when the server has no sendfile wrapper
        response["Content-Length"] = str(size)
    elif byte_range is None:
        response = StreamingHttpResponse(blob_pieces(file.storage_path, length=size, chunk=STREAM_CHUNK_BYTES),
                                         content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = byte_range
        pieces = blob_pieces(file.storage_path, start=start, length=end - start + 1, chunk=STREAM_CHUNK_BYTES)
        response = StreamingHttpResponse(pieces, status=206, content_type=content_type)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    _safe_headers(response, file, disposition, content_type)
    return response


def text_head(file: StorageFile, limit: int) -> tuple[str, bool] | None:
    """The first ``limit`` bytes of the file as text, and whether there is more; None when the blob
    cannot be read (missing, the storage down): the page says so instead of failing."""
    try:
        with file_storage().open(file.storage_path, "rb") as handle:
            head = handle.read(limit + 1)
    except OSError as exc:
        logger.error("blob of file %s is missing or unreadable: %s", file.pk, exc)
        return None
    return head[:limit].decode("utf-8", errors="replace"), len(head) > limit
