"""Share links (issue 09 item 5): ``/s/<token>/`` opens one file or one folder to anyone holding the
link, within what its owner allowed.

- **The token** is 32 random bytes from ``secrets`` (256 bits, 43 URL-safe characters). The table keeps
  only its SHA-256 (``core.crypto.token_digest``), as for sessions and invitations, so a database read
  hands out no live link: the owner sees the full link once, when it is made.
- **Finding a link** needs no tenant: ``file_share_owner(digest)`` (migration 0003) says whose it is,
  and everything after runs in that owner's row-level security context (``share_lookup``).
- **Every request re-checks it**: revoked → not found, past ``expires_at`` → expired, and the file (or
  each file of a folder) must be live — not in the trash, not expired, and scanned when scanning is on
  (``is_processed``): a quarantined file is never served.
- **A password** (Django's hashers, ``SHARE_PASSWORD_MIN_LENGTH``) is asked before anything about
  the file is shown; the unlocked state lives in the visitor's session for that link only, tied to the
  password's hash (a new password locks every browser out again).
- **Wrong passwords** are counted in Redis per link and per address; past the free attempts each new
  failure doubles the wait (``SHARE_PASSWORD_BASE_DELAY`` up to ``SHARE_PASSWORD_MAX_DELAY``), during
  which every attempt is refused (429) unchecked.
- **Downloads are reserved, then released on failure**: a download takes one from the link's counter
  atomically (``UPDATE … WHERE download_count < max_downloads``, so of 20 concurrent requests to a link
  with 5 left exactly 5 go through) and gives it back when its response is closed before its last byte
  went out (the client left, the storage failed). What the counter keeps is completed downloads; one in
  flight counts until it fails.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.cache import redis_available
from core.crypto import token_digest
from core.errors import UserFacingError
from core.tenancy import tenant

from .access import access_record
from .models import FileAction, FileShare, ShareType, StorageFile, StorageFolder
from .scanning import scanning_enabled

TOKEN_BYTES = 32
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SESSION_PREFIX = "share-unlocked:"
THROTTLE_WINDOW_SECONDS = 24 * 3600
# While Redis is down, every password attempt waits: failures could not be counted.
REDIS_DOWN_WAIT = 60


def _setting(name: str, default):
    return getattr(settings, name, default)


def default_days() -> int:
    return int(_setting("SHARE_DEFAULT_DAYS", 7))


def max_days() -> int:
    return int(_setting("SHARE_MAX_DAYS", 90))


def password_min_length() -> int:
    return int(_setting("SHARE_PASSWORD_MIN_LENGTH", 8))


def max_downloads_limit() -> int:
    return int(_setting("SHARE_MAX_DOWNLOADS", 100_000))


class ShareError(UserFacingError):
    """A link could not be made or used as asked."""


class WrongPassword(ShareError):
    def __init__(self):
        super().__init__(_("That password is not right."))


class Throttled(ShareError):
    """Too many wrong passwords: ``retry_after`` seconds before the next attempt is checked."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(ngettext(
            "Too many wrong passwords. Try again in %(seconds)s second.",
            "Too many wrong passwords. Try again in %(seconds)s seconds.",
            retry_after,
        ) % {"seconds": retry_after})


@dataclass(frozen=True)
class CreatedShare:
    share: FileShare
    token: str  # the secret: shown to the owner once, never stored


# --- making and ending links ---------------------------------------------------------------------------


def expiry_for(days: int | None, *, now: datetime | None = None) -> datetime:
    """The expiry of a link lasting ``days`` (the default when None), refused beyond the maximum."""
    now = now or timezone.now()
    days = default_days() if days is None else days
    if days < 1:
        raise ShareError(_("A link must last at least one day."))
    if days > max_days():
        raise ShareError(ngettext("A link can last at most %(days)s day.", "A link can last at most %(days)s days.",
                                  max_days()) % {"days": max_days()})
    return now + timedelta(days=days)


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise ShareError(_("The expiry must be in the future."))
    if expires_at > now + timedelta(days=max_days(), minutes=1):
        raise ShareError(ngettext("A link can last at most %(days)s day.", "A link can last at most %(days)s days.",
                                  max_days()) % {"days": max_days()})


def share_create(*, user, file: StorageFile | None = None, folder: StorageFolder | None = None, password: str = "",
                 expires_at: datetime | None = None, max_downloads: int | None = None, allow_view: bool = True,
                 allow_download: bool = True, request=None) -> CreatedShare:
    """A new link to ``file`` or ``folder`` (one of them, the caller's own). ``expires_at`` None means
    the default (``SHARE_DEFAULT_DAYS``); it must be in the future and within ``SHARE_MAX_DAYS``."""
    if (file is None) == (folder is None):
        raise ShareError(_("Choose a file or a folder to share."))
    now = timezone.now()
    expires_at = expires_at or expiry_for(None, now=now)
    _check_expiry(expires_at, now)
    if max_downloads is not None and not 1 <= max_downloads <= max_downloads_limit():
        raise ShareError(_("The download limit must be a whole number from 1 to %(limit)s.") % {"limit": max_downloads_limit()})
    if not allow_view and not allow_download:
        raise ShareError(_("A link must allow viewing, downloading or both."))
    if password and len(password) < password_min_length():
        raise ShareError(ngettext(
            "The password must have at least %(count)s character.",
            "The password must have at least %(count)s characters.",
            password_min_length(),
        ) % {"count": password_min_length()})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with tenant(user.id):
        if file is not None and not StorageFile.objects.filter(pk=file.pk, user_id=user.id, deleted_at__isnull=True).exists():
            raise ShareError(_("This file is not available to share."))
        if folder is not None and not StorageFolder.objects.filter(pk=folder.pk, user_id=user.id).exists():
            raise ShareError(_("This folder is not available to share."))
        share = FileShare.objects.create(
            file=file, folder=folder, shared_by=user, user=user, share_token=token_digest(token),
            share_type=ShareType.PASSWORD if password else ShareType.LINK,
            password=make_password(password) if password else "",
            max_downloads=max_downloads, allow_view=allow_view, allow_download=allow_download, expires_at=expires_at,
        )
        if file is not None:
            access_record(file, FileAction.SHARE, request, share=share)
    return CreatedShare(share=share, token=token)


def share_revoke(*, user, share: FileShare, request=None) -> FileShare:
    """End the link now (its access log stays); revoking twice changes nothing."""
    with tenant(user.id):
        changed = FileShare.objects.filter(pk=share.pk, user_id=user.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
        share.refresh_from_db(fields=["revoked_at"])
        if changed and share.file_id:
            access_record(share.file, FileAction.UNSHARE, request, share=share)
    return share


# --- owner's reads -------------------------------------------------------------------------------------


def shares_of(user, *, file: StorageFile | None = None, folder: StorageFolder | None = None) -> QuerySet[FileShare]:
    """The owner's links to ``file`` or ``folder``, live ones first, newest first (call in the owner's context)."""
    queryset = FileShare.objects.filter(user_id=user.id)
    queryset = queryset.filter(file=file) if file is not None else queryset.filter(folder=folder)
    return queryset.order_by(F("revoked_at").desc(nulls_first=True), "-created_at")


def share_for_owner(user, share_id) -> FileShare | None:
    """The owner's link ``share_id`` (revoked ones too), or None — another user's link is None."""
    with tenant(user.id):
        return FileShare.objects.select_related("file", "folder").filter(pk=share_id, user_id=user.id).first()


# --- the public side ----------------------------------------------------------------------------------


def share_lookup(token: str) -> FileShare | None:
    """The link ``token`` opens (revoked and expired ones included: the caller says which), or None
    for a token of the wrong shape, one no link has, or a link of a deleted account. Call inside
    ``tenant(share.user_id)`` after."""
    if not token or not _TOKEN.match(token):
        return None
    digest = token_digest(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT file_share_owner(%s)", [digest])
        (owner_id,) = cursor.fetchone()
    if owner_id is None or not User.objects.filter(pk=owner_id, deleted_at__isnull=True).exists():
        return None  # no such link, or its owner's account is deleted (links end with it)
    with tenant(owner_id):
        return FileShare.objects.select_related("file", "folder").filter(share_token=digest).first()


def share_state(share: FileShare, *, now: datetime | None = None) -> str:
    """``"revoked"``, ``"expired"`` or ``"open"`` — checked on every request."""
    now = now or timezone.now()
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at is not None and share.expires_at <= now:
        return "expired"
    return "open"


def live_files(queryset: QuerySet[StorageFile], *, now: datetime | None = None) -> QuerySet[StorageFile]:
    """Files a link may serve: not in the trash, not expired, scanned when scanning is on."""
    now = now or timezone.now()
    queryset = queryset.filter(deleted_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if scanning_enabled():
        queryset = queryset.filter(is_processed=True)
    return queryset


def shared_files(share: FileShare, *, now: datetime | None = None) -> QuerySet[StorageFile]:
    """What the link serves (in the owner's context): its file, or the files of its folder and of
    every folder below it; only live files."""
    if share.file_id is not None:
        queryset = StorageFile.objects.filter(pk=share.file_id, user_id=share.user_id)
    else:
        folder = share.folder
        queryset = StorageFile.objects.filter(user_id=share.user_id).filter(
            Q(folder_id=folder.pk) | Q(folder__path__startswith=folder.path + "/")
        )
    return live_files(queryset, now=now)


def _unlock_mark(share: FileShare) -> str:
    return salted_hmac("storage.shares.unlocked", share.password).hexdigest()


def is_unlocked(session, share: FileShare) -> bool:
    if share.share_type != ShareType.PASSWORD:
        return True
    mark = session.get(SESSION_PREFIX + str(share.pk)) if session is not None else None
    return bool(mark) and constant_time_compare(mark, _unlock_mark(share))


# Wrong-password throttling: counters and "refuse until" times in the cache (Redis), per link and per
# client address, each kept a day after its last failure.
def _clock() -> float:
    return time.time()


def _keys(share: FileShare, ip: str | None) -> list[tuple[str, int]]:
    keys = [(f"shares:pw:link:{share.pk}", int(_setting("SHARE_PASSWORD_FREE_ATTEMPTS", 5)))]
    if ip:
        keys.append((f"shares:pw:ip:{ip}", int(_setting("SHARE_PASSWORD_FREE_ATTEMPTS_PER_IP", 20))))
    return keys


def throttle_wait(share: FileShare, ip: str | None) -> int:
    """Seconds until the next password attempt on ``share`` from ``ip`` is checked (0: now)."""
    if not redis_available():
        return REDIS_DOWN_WAIT  # fails closed: failures cannot be counted, so no password is checked
    now = _clock()
    until = max((cache.get(key + ":until") or 0.0) for key, _free in _keys(share, ip))
    return max(0, math.ceil(until - now))


def _count_failure(share: FileShare, ip: str | None) -> None:
    base = float(_setting("SHARE_PASSWORD_BASE_DELAY", 2.0))
    ceiling = float(_setting("SHARE_PASSWORD_MAX_DELAY", 900.0))
    now = _clock()
    for key, free in _keys(share, ip):
        cache.add(key, 0, THROTTLE_WINDOW_SECONDS)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, THROTTLE_WINDOW_SECONDS)
            failures = 1
        cache.touch(key, THROTTLE_WINDOW_SECONDS)
        if failures >= free:
            delay = min(ceiling, base * 2 ** (failures - free))
            cache.set(key + ":until", now + delay, THROTTLE_WINDOW_SECONDS)


def share_unlock(*, share: FileShare, password: str, session, request=None, ip: str | None = None) -> None:
    """Check ``password`` for ``share`` and remember success in ``session``. Raises ``Throttled`` while
    the link or the address waits (the password is then not checked) and ``WrongPassword`` otherwise,
    logged as ``DENIED`` on the link's file (a folder link's: on its first live file)."""
    wait = throttle_wait(share, ip)
    if wait:
        raise Throttled(wait)
    if share.share_type == ShareType.PASSWORD and check_password(password or "", share.password):
        session[SESSION_PREFIX + str(share.pk)] = _unlock_mark(share)
        return
    _count_failure(share, ip)
    with tenant(share.user_id):
        target = share.file if share.file_id else shared_files(share).order_by("created_at").first()
        if target is not None:
            access_record(target, FileAction.DENIED, request, share=share)
    raise WrongPassword()


def downloads_left(share: FileShare) -> int | None:
    if share.max_downloads is None:
        return None
    return max(0, share.max_downloads - share.download_count)


def download_reserve(share: FileShare) -> bool:
    """Take one download from the link's counter, atomically; False when none is left (or the link
    ended meanwhile). Call in the owner's context; the reservation is committed with the request."""
    with tenant(share.user_id):
        taken = FileShare.objects.filter(pk=share.pk, revoked_at__isnull=True).filter(
            Q(max_downloads__isnull=True) | Q(download_count__lt=F("max_downloads"))
        ).update(download_count=F("download_count") + 1)
    return bool(taken)


def download_release(share_id, owner_id) -> None:
    """Give back a download that did not complete."""
    with tenant(owner_id):
        FileShare.objects.filter(pk=share_id, download_count__gt=0).update(download_count=F("download_count") - 1)
