"""The conversation page's message items, kept rendered in the cache while nothing they show changed.

A 500-message page spent most of its server time reading the 500 rows (their text twice: body and
Copy) and writing their items; a page opened again (a reload, the sidebar, a link) wrote the same
HTML again. Messages have no ``updated_at``: the key is a fingerprint of the row versions
PostgreSQL itself keeps, ``(ctid, xmin)`` of every message of the conversation (superseded
versions included, so "< 2/3 >" follows) and of every artifact made in it. Any insert, update or
delete gives a row a new version (a new ``ctid``, even in the transaction that wrote the old one),
so the key changes with anything an item shows; the rest of what an item depends on is in the key
too: the agent's name, whether the person may still edit, language, time zone, URL prefix, the
owner, and a digest of the code that writes items (a deploy never serves old markup). One query
(about 0.5 ms for 500 rows, under the request's row-level security) instead of reading the rows.

The value is zlib-compressed (about a tenth of the 700 KB) with a short lifetime; the cache fails
open (``core.cache``): Redis down means the items are written as before.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.translation import get_language

from . import rendering, sources

ITEMS_TTL_SECONDS = 600


def _code_digest() -> str:
    from artifacts import rendering as artifact_rendering  # noqa: PLC0415 - its cards are in the items

    files = (rendering.__file__, sources.__file__, artifact_rendering.__file__, __file__)
    return hashlib.sha256(b"".join(Path(f).read_bytes() for f in files)).hexdigest()[:16]


_CODE = _code_digest()

# count:md5 of the row versions, for the conversation's messages and for its artifacts.
_FINGERPRINT_SQL = """
SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ';' ORDER BY id)), '')
          FROM messages WHERE conversation_id = %(id)s),
       (SELECT count(*) || ':' || coalesce(md5(string_agg(ctid::text || xmin::text, ';' ORDER BY id)), '')
          FROM artifacts WHERE conversation_id = %(id)s)
"""


def items_key(*, user, conversation, agent_name: str, editable: bool) -> str:
    """The cache key of ``conversation``'s items as they are now (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, {"id": conversation.id})
        messages_version, artifacts_version = cursor.fetchone()
    parts = (_CODE, str(user.pk), str(conversation.id), messages_version, artifacts_version, str(agent_name),
             "1" if editable else "0", get_language() or "", timezone.get_current_timezone_name(),
             get_script_prefix(), str(settings.ROOT_URLCONF))
    return "chats:items:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def items_get(key: str) -> str | None:
    stored = cache.get(key)
    if not isinstance(stored, bytes):
        return None
    try:
        return zlib.decompress(stored).decode()
    except (zlib.error, UnicodeDecodeError):
        return None


def items_set(key: str, html: str) -> None:
    cache.set(key, zlib.compress(html.encode(), 1), ITEMS_TTL_SECONDS)
