"""Background upkeep of the storage domain (scheduled by Celery beat)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="storage.purge_expired")
def purge_expired_files() -> int:
    from .services import files_purge_expired

    return files_purge_expired()


@shared_task(name="storage.purge_trash")
def purge_trash() -> int:
    from .trash import trash_purge_expired

    return trash_purge_expired()
