"""Rows of long lists rendered in Python (issue 15): one ``str.format`` per row, every value escaped.

A list row in a template costs a fraction of a millisecond in translated labels, URL reversals and
filters; for 25–50 rows per page that was most of the page. The list modules (``rag.rows``,
``storage.rows``, ``artifacts.rows``) keep the template's markup as a format string, fill the labels
and URL prefixes once per page with these helpers, and each row with ``format_row``.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable

from django.core.paginator import Page, Paginator
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

_ID = "00000000-0000-0000-0000-000000000000"


def escape(value) -> str:
    """``conditional_escape``, without its checks for lazy strings (a lazy one is made text here)."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def format_row(format_string: str, **values) -> str:
    """``format_html`` for many rows: every value escaped (safe strings kept), the result left unmarked."""
    return format_string.format(**{key: escape(value) for key, value in values.items()})


def fill_labels(format_string: str, labels: dict[str, str]) -> str:
    """``format_string`` with the page's labels translated and escaped in, its other fields left to fill.

    The labels' texts are marked with ``gettext_noop`` where they are defined, so they are extracted."""
    for key, text in labels.items():
        format_string = format_string.replace("{%s}" % key, escape(gettext(text)).replace("{", "{{").replace("}", "}}"))
    return format_string


def url_around_id(name: str) -> tuple[str, str]:
    """What ``reverse(name, args=[id])`` puts before and after the id: one reversal per page, not per row."""
    before, after = reverse(name, args=[_ID]).split(_ID)
    return before, after


class _Counted:
    """What Paginator needs of a list whose size and one page are already read."""

    def __init__(self, total: int, rows: list):
        self.total, self.rows = total, rows

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, _slice):  # Paginator asks only for the page that was read
        return self.rows


def page_of(total: int, number: int, rows: list, size: int) -> Page:
    """Paginator's Page number ``number`` of ``total`` rows, ``rows`` being that page's (a selector
    that reads the count and one page in one query returns the three; a page past the end was
    already turned into the last one there, as ``Paginator.get_page`` does)."""
    return Paginator(_Counted(total, rows), size).page(number)


def kept_fragment(cache: OrderedDict, request, render: Callable[[], str], *, kept: int = 64) -> SafeString:
    """A fragment that is the same for everyone on a page (a section's links), rendered once per URL
    configuration, script prefix, language and path and kept in ``cache`` (the ``kept`` latest)."""
    key = (get_resolver(get_urlconf()), get_script_prefix(), get_language(), request.path)
    fragment = cache.get(key)
    if fragment is None:
        fragment = cache[key] = mark_safe(render())  # noqa: S308 (Django's own rendering)
        while len(cache) > kept:
            cache.popitem(last=False)
    return fragment
