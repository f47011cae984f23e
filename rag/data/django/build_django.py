"""Rebuild ``documents.json.gz`` from the Django 3.2 documentation's reStructuredText sources.

The Django set is 50 pages of the Django 3.2 documentation (BSD licence, see SOURCES.md and
LICENSE-Django.txt). Debian 12's ``python-django-doc`` package (3:3.2.25-0+deb12u7) ships that
documentation as HTML only, without Sphinx's ``_sources``, so the pages are read from the ``docs/``
folder of the same release's source: ``python-django_3.2.25.orig.tar.gz``, the upstream tarball of
Debian's source package ``python-django`` (sha256 7ca38a78654aee72378594d63e51636c04b8e28574f5505dff630895b5472777).

Each page is converted to Markdown by the library set's converter (``../library/build_library.py``,
loaded by path), with Django's own Sphinx directives added: ``django-admin`` and
``django-admin-option`` keep their signature as a line of code like the other API directives,
``console`` and ``parsed-literal`` keep their body like ``code-block``, and the target-only
directives (``setting``, ``templatetag``, ``templatefilter``, ``fieldlookup``) are dropped like
labels. The ``|version|`` substitution becomes ``3.2``, as Sphinx renders it. The words of the text
are the documentation's own.

    apt-get source --download-only python-django   # needs a deb-src entry for bookworm-security
    tar xzf python-django_3.2.25.orig.tar.gz Django-3.2.25/docs
    python rag/data/django/build_django.py Django-3.2.25/docs

The output is deterministic (sorted keys, fixed gzip timestamp), so a rebuild from the same release
gives the same file.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "documents.json.gz"
PACKAGE = "Django 3.2.25's docs/, as in Debian 12's python-django 3:3.2.25-0+deb12u7 source"

PAGES = [
    *(f"topics/{name}" for name in (
        "db/models", "db/queries", "db/aggregation", "db/transactions", "forms/index", "forms/modelforms",
        "http/urls", "http/sessions", "http/middleware", "templates", "auth/default", "auth/customizing",
        "cache", "signals", "testing/tools", "i18n/translation", "migrations", "email", "pagination", "logging",
        "security", "serialization", "class-based-views/mixins")),
    *(f"howto/{name}" for name in (
        "deployment/checklist", "custom-management-commands", "static-files/index", "custom-template-tags",
        "error-reporting")),
    *(f"ref/{name}" for name in (
        "middleware", "csrf", "contrib/admin/index", "contrib/admin/actions", "signals", "validators",
        "paginator", "request-response", "models/fields", "models/querysets", "forms/api", "forms/fields",
        "templates/api", "templates/builtins", "django-admin")),
    *(f"intro/tutorial0{number}" for number in range(1, 7 + 1)),
]


def _library_converter():
    """build_library's module, loaded by path under a private name and given Django's directives."""
    spec = importlib.util.spec_from_file_location("_django_set_rst", HERE.parent / "library" / "build_library.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SIGNATURES = module.SIGNATURES | {"django-admin", "django-admin-option", "object"}
    module.KEEP_BODY = module.KEEP_BODY | {"console", "parsed-literal"}
    return module


def build(sources: Path) -> dict:
    library = _library_converter()
    documents = []
    for page in PAGES:
        rst = (sources / f"{page}.txt").read_text(encoding="utf-8").replace("|version|", "3.2")
        title, text = library.convert(rst)
        documents.append({"key": page.replace("/", "-"), "title": title, "language": "en", "source": page,
                          "text": text})
    return {"description": f"{len(documents)} pages of the Django 3.2 documentation ({PACKAGE}), as Markdown.",
            "documents": documents}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: build_django.py DJANGO_DOCS_DIR (the docs/ folder of Django 3.2.25's source)")
    data = json.dumps(build(Path(sys.argv[1])), ensure_ascii=False, indent=0, sort_keys=True).encode()
    with OUTPUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as packed:
        packed.write(data)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
