"""Test set-up: a fresh test database migrated by the owner role; tests connect as the runtime role.

``default`` is the runtime role (NOSUPERUSER NOBYPASSRLS), so row-level security is in force in
every test. The ``owner`` alias is used only to create the schema and to empty tables after
tests that commit (TransactionTestCase), since the runtime role may not TRUNCATE.
"""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import testcases

# Tables filled by migrations themselves; everything else is emptied after committing tests.
_KEEP_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def _truncate_all_as_owner(attempts: int = 5) -> None:
    """Empty every table the tests fill, as the owner role.

    A request still being served by the live server when its test ends (a stream noticing the
    closed page late) can hold a lock on one table while it waits for another that TRUNCATE holds:
    PostgreSQL ends one of the two as a deadlock. When it ends ours, try again; the request is gone
    a moment later. Giving up would leave Django's per-test database guards in place and fail every
    later test that uses the owner alias, as CI once did.
    """
    import psycopg

    # A raw connection: Django's test guard forbids the "owner" alias inside tests, on purpose.
    wrapper = connections["owner"]
    for attempt in range(1, attempts + 1):
        raw = wrapper.get_new_connection(wrapper.get_connection_params())
        try:
            with raw.cursor() as cursor:
                cursor.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL(%s)",
                    [list(_KEEP_TABLES)],
                )
                tables = [row[0] for row in cursor.fetchall()]
                if tables:
                    quoted = ", ".join(wrapper.ops.quote_name(t) for t in tables)
                    cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            raw.commit()
            return
        except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
        finally:
            raw.close()


def _fixture_teardown(self):
    _truncate_all_as_owner()


testcases.TransactionTestCase._fixture_teardown = _fixture_teardown


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker, worker_id):
    from config import bootstrap

    name = settings.DATABASES["default"]["TEST"]["NAME"]
    if worker_id not in ("master", None):
        name = f"{name}_{worker_id}"
    plan = bootstrap.prepare(database=name, recreate=True)
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
        connections[alias].close()
    with django_db_blocker.unblock():
        call_command("migrate", database="owner", verbosity=0, interactive=False)
        connections["owner"].close()
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
    bootstrap.drop_database(plan, name)


@pytest.fixture(scope="session")
def worker_id(request):
    return getattr(getattr(request.config, "workerinput", None), "get", lambda *_: "master")("workerid", "master")


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty (test-only) Redis database: rate limits, caches."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def owner(db):
    from testutils.testing import make_user

    return make_user("owner@example.com", name="Olivia Owner")


@pytest.fixture
def other(db):
    from testutils.testing import make_user

    return make_user("other@example.com", name="Oscar Other")


@pytest.fixture
def staff(db):
    from testutils.testing import make_user

    return make_user("staff@example.com", role="ADMIN", name="Sam Staff")


@pytest.fixture
def owner_client(owner):
    from testutils.testing import client_for

    return client_for(owner)


@pytest.fixture
def other_client(other):
    from testutils.testing import client_for

    return client_for(other)


@pytest.fixture
def staff_client(staff):
    from testutils.testing import client_for

    return client_for(staff)


@pytest.fixture(scope="session")
def _browser():
    """One chromium for the session (Playwright drives Debian's binary; no download)."""
    from testutils.browser import LAUNCH_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        pytest.skip("browser tests skipped: no chromium found (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements-dev.txt
        pytest.skip(f"browser tests skipped: playwright is not importable ({exc})")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
    except Exception as exc:
        manager.stop()
        pytest.skip(f"browser tests skipped: chromium at {path} did not start ({exc})")
    yield browser
    browser.close()
    manager.stop()


def _new_context(browser, live_server, viewport: str = "desktop", *, timeout: float = 15_000, **options):
    from testutils.browser import VIEWPORTS

    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORTS[viewport], **options)
    context.set_default_timeout(timeout)
    return context


@pytest.fixture
def browser_page(_browser, live_server):
    """A signed-out page on the live server, at the desktop viewport."""
    context = _new_context(_browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def signed_in_page(_browser, live_server, request):
    """``signed_in_page(user, viewport="desktop", **context_options)``: a page signed in as ``user``.

    The session cookie comes from the test client's login (``client_for``); ``viewport`` names one
    of ``testutils.browser.VIEWPORTS``; other options go to Playwright's ``new_context`` (say
    ``color_scheme="dark"``), ``timeout`` sets its default timeout (ms). Console errors and
    uncaught script errors (a CSP violation is one) are collected in ``page.problems``. The context
    closes when the test ends.
    """
    from testutils.testing import client_for

    def open_as(user, viewport: str = "desktop", **options):
        context = _new_context(_browser, live_server, viewport, **options)
        request.addfinalizer(context.close)
        cookie = client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.problems = []
        page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        return page

    return open_as
