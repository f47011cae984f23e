"""Where blobs live: the one switch between local files and S3.

``STORAGE_BACKEND`` = ``local`` (default: Django's default storage, ``MEDIA_ROOT`` under ``var/``)
or ``s3`` (django-storages' ``S3Storage``, configured by the ``STORAGE_S3_*`` settings below).
Nothing under ``MEDIA_ROOT`` or the bucket is ever served directly: files reach people only
through the views that check access and log it (``storage.views``, share links).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.core.signals import setting_changed

S3_OPTIONS = {
    # option of storages.backends.s3.S3Storage: setting read with getattr
    "bucket_name": "STORAGE_S3_BUCKET",
    "endpoint_url": "STORAGE_S3_ENDPOINT_URL",
    "region_name": "STORAGE_S3_REGION",
    "access_key": "STORAGE_S3_ACCESS_KEY_ID",
    "secret_key": "STORAGE_S3_SECRET_ACCESS_KEY",
    "location": "STORAGE_S3_PREFIX",
}


def backend_name() -> str:
    return str(getattr(settings, "STORAGE_BACKEND", "local") or "local").lower()


@lru_cache(maxsize=1)
def _s3_storage() -> Storage:
    from storages.backends.s3 import S3Storage

    options = {option: getattr(settings, name) for option, name in S3_OPTIONS.items() if getattr(settings, name, None)}
    # Private objects, never a public URL; the server streams them.
    return S3Storage(default_acl="private", querystring_auth=True, file_overwrite=False, **options)


def file_storage() -> Storage:
    """The storage every blob of the storage domain goes to."""
    if backend_name() == "s3":
        return _s3_storage()
    return default_storage


def _reset(*, setting, **kwargs):
    if setting == "STORAGE_BACKEND" or setting.startswith("STORAGE_S3_"):
        _s3_storage.cache_clear()


setting_changed.connect(_reset)


def blob_pieces(path: str, *, start: int = 0, length: int, chunk: int = 256 * 1024):
    """The bytes ``start`` .. ``start + length - 1`` of the blob at ``path``, in pieces, never
    whole: a seek and bounded reads for local files; one ranged GET streamed for S3 (django-storages'
    own file object would download the whole object first)."""
    if length <= 0:
        return
    if backend_name() == "s3":
        from storages.utils import clean_name

        storage = _s3_storage()
        key = storage._normalize_name(clean_name(path))
        body = storage.bucket.Object(key).get(Range=f"bytes={start}-{start + length - 1}")["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()
        return
    handle = file_storage().open(path, "rb")
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            piece = handle.read(min(chunk, remaining))
            if not piece:
                break
            remaining -= len(piece)
            yield piece
    finally:
        handle.close()
