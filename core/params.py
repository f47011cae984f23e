"""Query parameters read the same way everywhere: nothing a visitor types in a URL reaches the
database or a paginator unchecked (NUL bytes, control characters, absurd page numbers)."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict

from .text import strip_control_chars

# Far beyond any real list, small enough for every paginator and for PostgreSQL's OFFSET.
MAX_PAGE = 10_000


def clean_text(value: str | None, *, max_length: int = 200) -> str:
    """A free-text parameter: control characters removed, whitespace collapsed, length capped."""
    if not value:
        return ""
    return " ".join(strip_control_chars(str(value)).split())[:max_length]


def clean_page(value: str | int | None, *, default: int = 1, maximum: int = MAX_PAGE) -> int:
    """A 1-based page number: anything that is not a positive integer is ``default``; capped at ``maximum``."""
    try:
        number = int(str(value).strip()) if value is not None and len(str(value)) <= 12 else default
    except ValueError:
        return default
    if number < 1:
        return default
    return min(number, maximum)


def query_text(request_or_params: HttpRequest | QueryDict, name: str, *, max_length: int = 200) -> str:
    params = getattr(request_or_params, "GET", request_or_params)
    return clean_text(params.get(name), max_length=max_length)


def query_page(request_or_params: HttpRequest | QueryDict, name: str = "page") -> int:
    params = getattr(request_or_params, "GET", request_or_params)
    return clean_page(params.get(name))
