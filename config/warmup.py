"""Load, before the first request, what the first request would otherwise load.

gunicorn imports the application once in its master (``preload_app``) and forks the workers from
it, so this runs once and every worker starts warm: every URL module and view module imported and
the URL resolver's reverse map built, every template compiled into the cached loader, the
translation catalogs of every language read, the warm-up pages served (``warm_pages``). Database
connections opened here are closed before the fork: a connection must never be shared by two
processes. After the fork, each worker serves the same pages once more before it accepts
(``warm_worker``, from config/gunicorn.py), in the thread that will serve its first request.

``warm_code()`` is the part that needs no database: `make run` (``config.devserver``) calls it in
the web process while the migrations are still being checked; ``warm()`` (from config/wsgi.py)
then finds that part done (a second pass costs milliseconds: every lookup hits its cache).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django.utils import translation

logger = logging.getLogger("config.warmup")


def _walk(resolver: URLResolver) -> int:
    count = 0
    for pattern in resolver.url_patterns:  # importing each included URL module and its views
        count += _walk(pattern) if isinstance(pattern, URLResolver) else 1
    return count


def _namespaces(resolver: URLResolver, parent: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for namespace, (_prefix, included) in resolver.namespace_dict.items():
        found += [(*parent, namespace), *_namespaces(included, (*parent, namespace))]
    return found


def _reverse_maps(resolver: URLResolver) -> int:
    """Build the reverse maps reverse() reads, for the active language: the root's, and the one
    Django keeps per namespace (``get_ns_resolver``), each built on its first reverse() in that
    language. Unbuilt, the sidebar's ten links cost 20 ms on a worker's first signed-in page."""
    resolver.reverse_dict  # noqa: B018 — the property builds it
    namespaces = _namespaces(resolver)
    for path in namespaces:
        try:
            reverse(":".join((*path, "\ue000")))  # no such name: the namespace's map is built, then the miss
        except NoReverseMatch:
            pass
    return len(namespaces)


def _template_names(engine) -> list[str]:
    names = []
    for directory in engine.template_dirs:
        root = Path(directory)
        names += [str(p.relative_to(root)) for p in root.rglob("*.html")]
    return sorted(set(names))


# Pages served once, in-process, so that their code paths (middleware, sessions, forms, allauth's
# adapters, the start page's redirect) have run once before the first real request.
WARM_PATHS = ("/healthz", "/accounts/login/", "/")


def signed_in_paths() -> list[str]:
    """Every page the sidebar links a person to (the navigation's items open to everyone)."""
    from core.context_processors import NAVIGATION

    return [reverse(item.url_name) for group in NAVIGATION for item in group.items if not item.requires]


def _environ(path: str, cookie: str = "") -> dict:
    """A GET for ``path`` as gunicorn would pass it to the application."""
    import io
    import sys

    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "")] or ["localhost"]
    secure = not settings.DEBUG and getattr(settings, "SECURE_SSL_REDIRECT", False)
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": hosts[0], "SERVER_PORT": "443" if secure else "80", "HTTP_HOST": hosts[0],
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "https" if secure else "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _get(application, path: str, cookie: str = "") -> int:
    statuses = []
    response = application(_environ(path, cookie), lambda status, headers, exc_info=None: statuses.append(status))
    try:
        for _chunk in response:
            pass
    finally:
        getattr(response, "close", lambda: None)()  # request_finished, as gunicorn sends it
    return int(statuses[0].split()[0])


@contextmanager
def _rolled_back_person():
    """A session cookie for a person who exists only in a transaction rolled back at the end.

    The requests made meanwhile run inside that transaction (TenantMiddleware nests in it), so
    nothing they write stays: not the person, the session, the sign-in's audit row or a usage
    row. Django closes a connection that is in a transaction when a request starts or ends
    (``close_old_connections``); the test client disconnects it for the same reason, and so
    does this, while no request of anyone else's can arrive (before the fork, or before the
    worker accepts).
    """
    import uuid

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.core import signals
    from django.db import close_old_connections, transaction
    from django.test import Client

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            email = f"warm-up-{uuid.uuid4().hex}@warm-up.invalid"
            person = get_user_model().objects.create_user(email, None)
            EmailAddress.objects.create(user=person, email=email, verified=True, primary=True)
            client = Client()  # only its force_login: no request goes through its handler
            client.force_login(person, backend="allauth.account.auth_backends.AuthenticationBackend")
            yield f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def warm_pages(application) -> dict[str, int]:
    """Serve the warm-up pages through ``application``: WARM_PATHS anonymously, then every
    sidebar page signed in (``_rolled_back_person``). Best effort: a page that fails here is
    logged and still answers later. Returns {path: status}."""
    statuses: dict[str, int] = {}
    for path in WARM_PATHS:
        try:
            statuses[path] = _get(application, path)
        except Exception:
            logger.warning("warm-up request to %s failed", path, exc_info=True)
    try:
        with _rolled_back_person() as cookie:
            for path in signed_in_paths():
                try:
                    statuses[f"{path} (signed in)"] = _get(application, path, cookie)
                except Exception:
                    logger.warning("signed-in warm-up request to %s failed", path, exc_info=True)
    except Exception:
        logger.warning("signed-in warm-up failed", exc_info=True)
    failed = {path: status for path, status in statuses.items() if status >= 400}
    if failed:
        logger.warning("warm-up pages that did not answer: %s", failed)
    return statuses


def warm_worker(application) -> float:
    """warm_pages() once more after the fork, in the thread that will serve the worker's first
    request (see config/gunicorn.py): the first pass over each object writes its reference count
    and copies its page, the thread opens its database connection, and a page's first queries are
    compiled; here, not in a person's request. Returns the seconds it took."""
    started = time.perf_counter()
    warm_pages(application)
    return time.perf_counter() - started


_ahead: dict[str, float] = {}  # the figures of a warm_code() run before warm()


def warm_code() -> dict[str, float]:
    """URLs, templates, catalogues and the time-zone choices: everything but the database."""
    started = time.perf_counter()
    resolver = get_resolver()
    routes = _walk(resolver)
    for code, _name in settings.LANGUAGES:  # reverse maps are kept per language (i18n patterns)
        with translation.override(code):
            _reverse_maps(resolver)
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


def warm(application=None) -> dict[str, float]:
    """Everything warm_code() does, then warm_pages() through ``application`` (by default, a
    WSGI application of its own), then every connection closed."""
    started = time.perf_counter()
    code = warm_code()
    if application is None:
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
    warm_pages(application)
    connections.close_all()
    figures = {**code, "total_s": time.perf_counter() - started}
    ahead = f" (and {_ahead['code_s']:.2f}s before the database was ready)" if _ahead else ""
    logger.info("warm start: %d routes, %d templates in %.2fs%s", code["routes"], code["templates"], figures["total_s"], ahead)
    return figures
