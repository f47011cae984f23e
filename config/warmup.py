"""Load, before the first request, what the first request would otherwise load.

gunicorn imports the application once in its master (``preload_app``) and forks the workers from
it, so this runs once and every worker starts warm: every URL module and view module imported and
the URL resolver's reverse map built, every template compiled into the cached loader, the
translation catalogs of every language read. Database connections opened here are closed before
the fork: a connection must never be shared by two processes.

``warm_code()`` is the part that needs no database: `make run` (``config.devserver``) calls it in
the web process while the migrations are still being checked; ``warm()`` (from config/wsgi.py)
then finds that part done (a second pass costs milliseconds: every lookup hits its cache).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import URLResolver, get_resolver
from django.utils import translation

logger = logging.getLogger("config.warmup")


def _walk(resolver: URLResolver) -> int:
    count = 0
    for pattern in resolver.url_patterns:  # importing each included URL module and its views
        count += _walk(pattern) if isinstance(pattern, URLResolver) else 1
    return count


def _template_names(engine) -> list[str]:
    names = []
    for directory in engine.template_dirs:
        root = Path(directory)
        names += [str(p.relative_to(root)) for p in root.rglob("*.html")]
    return sorted(set(names))


# Pages served once, in-process, so that their code paths (middleware, sessions, forms, allauth's
# adapters, the start page's redirect) have run once before the first real request.
WARM_PATHS = ("/healthz", "/accounts/login/", "/")


def _requests() -> None:
    from django.test import Client

    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "")] or ["localhost"]
    client = Client(raise_request_exception=False, HTTP_HOST=hosts[0])
    for path in WARM_PATHS:
        try:
            client.get(path, secure=not settings.DEBUG and getattr(settings, "SECURE_SSL_REDIRECT", False))
        except Exception:  # warming is best effort: a page that cannot answer here still answers later
            logger.warning("warm-up request to %s failed", path, exc_info=True)


_ahead: dict[str, float] = {}  # the figures of a warm_code() run before warm()


def warm_code() -> dict[str, float]:
    """URLs, templates, catalogues and the time-zone choices: everything but the database."""
    started = time.perf_counter()
    resolver = get_resolver()
    routes = _walk(resolver)
    resolver.reverse_dict  # noqa: B018 — built on first reverse(); build it now
    urls_done = time.perf_counter()
    compiled = 0
    for engine in engines.all():
        for name in _template_names(engine):
            try:
                engine.get_template(name)
                compiled += 1
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a partial meant only for {% include %} with a context of its own
    templates_done = time.perf_counter()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Sign in")
    from accounts.forms import _time_zone_choices  # the ~600 zones of the settings page's select, built once

    _time_zone_choices()
    return {
        "routes": routes,
        "templates": compiled,
        "urls_s": urls_done - started,
        "templates_s": templates_done - urls_done,
        "code_s": time.perf_counter() - started,
    }


def warm_code_ahead() -> None:
    """warm_code() before the database is ready (see the module's doc)."""
    _ahead.update(warm_code())


def warm() -> dict[str, float]:
    started = time.perf_counter()
    code = warm_code()
    _requests()
    connections.close_all()
    figures = {**code, "total_s": time.perf_counter() - started}
    ahead = f" (and {_ahead['code_s']:.2f}s before the database was ready)" if _ahead else ""
    logger.info("warm start: %d routes, %d templates in %.2fs%s", code["routes"], code["templates"], figures["total_s"], ahead)
    return figures
