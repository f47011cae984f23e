"""Finance settings, read with their defaults (the lead lists them in config/settings.py)."""

from django.conf import settings


def import_max_bytes() -> int:
    """The largest CSV/OFX file accepted for import."""
    return int(getattr(settings, "FINANCE_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def import_max_rows() -> int:
    """The most rows one import may hold."""
    return int(getattr(settings, "FINANCE_IMPORT_MAX_ROWS", 50_000))


def transactions_page_size() -> int:
    return int(getattr(settings, "FINANCE_TRANSACTIONS_PAGE_SIZE", 50))
