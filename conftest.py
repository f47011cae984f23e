"""Test set-up: a fresh test database migrated by the owner role; tests connect as the runtime role.

``default`` is the runtime role (NOSUPERUSER NOBYPASSRLS), so row-level security is in force in
every test. The ``owner`` alias is used only to create the schema and to empty tables after
tests that commit (TransactionTestCase), since the runtime role may not TRUNCATE.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import testcases

from testutils.database import truncate_all_as_owner


def _fixture_teardown(self):
    truncate_all_as_owner()


testcases.TransactionTestCase._fixture_teardown = _fixture_teardown


# The fixture that hands out a copy of the test database as its migrations left it.
_MIGRATED_COPY_FIXTURE = "freshly_migrated_database"
_migrated_copies: dict[str, tuple] = {}


# Here, not in testutils: it uses config.bootstrap, which app tests importing testutils may not reach
# (.importlinter: config -> domain apps -> core).
def _copy_database(plan, source: str, target: str) -> None:
    """Make ``target`` a copy of ``source`` (``CREATE DATABASE ... TEMPLATE``), prepared as bootstrap prepares one.

    A copy of a freshly migrated database takes a fraction of a second where migrating a new one
    takes 12 s or more. PostgreSQL copies only a database nobody is connected to, so this is for
    the moment right after the test database is migrated, before any test connects. The database's
    own grants are not part of a copy: ``bootstrap.ensure_database`` gives them again (and repeats
    its other steps, each of which leaves a database that already has them as it was).
    """
    from psycopg import sql

    from config import bootstrap

    with bootstrap._connect(plan.admin_conninfo) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        cursor.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(target), sql.Identifier(source), sql.Identifier(plan.owner_role)
            )
        )
    bootstrap.ensure_database(plan, target)


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker, worker_id, request):
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
    # Copied now, while nothing is connected to the new database, and only when a test of this
    # session asks for the copy.
    if any(_MIGRATED_COPY_FIXTURE in getattr(item, "fixturenames", ()) for item in request.session.items):
        copy = f"{name}_migrated"
        _copy_database(plan, name, copy)
        _migrated_copies[copy] = (plan, copy)
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
    for copy_plan, copy in _migrated_copies.values():
        bootstrap.drop_database(copy_plan, copy)
    _migrated_copies.clear()
    bootstrap.drop_database(plan, name)


@pytest.fixture
def freshly_migrated_database(django_db_setup):
    """``(plan, name)`` of a copy of the test database as its migrations left it, before any test ran.

    The copy is made by ``django_db_setup`` (a copy takes well under a second; migrating a new
    database takes 12 s or more) and is the test's to change: one test may have it a session, and
    it is dropped when that test ends.
    """
    from config import bootstrap

    if not _migrated_copies:
        raise RuntimeError("the migrated copy was already used by another test this session")
    plan, name = _migrated_copies.popitem()[1]
    yield plan, name
    bootstrap.drop_database(plan, name)


@pytest.fixture(scope="session")
def worker_id(request):
    return getattr(getattr(request.config, "workerinput", None), "get", lambda *_: "master")("workerid", "master")


@pytest.fixture(scope="session", autouse=True)
def _static_table_read_once():
    """The static embedder's table (16 MB, read and weighted: about 0.3 s) is read once a session.

    Any test that changes EMBEDDER or an OPENAI_* setting (the ``settings`` fixture, and again when
    it restores them) makes ``rag.embedders`` forget its shared instances, and the next RAG call
    built a new StaticEmbedder that read the same file again. A new instance still is built each
    time; only the table and tokenizer, which nothing writes to, come from the first one. A test
    that points TABLE or VOCABULARY elsewhere gets them read from there.
    """
    from rag.embedders.static import StaticEmbedder

    original = StaticEmbedder.__init__
    loaded: dict = {}

    def init(self):
        key = (self.TABLE, self.VOCABULARY)
        if key not in loaded:
            original(self)
            loaded[key] = (self.table, self.tokenizer, self.dimension)
        self.table, self.tokenizer, self.dimension = loaded[key]

    StaticEmbedder.__init__ = init
    yield
    StaticEmbedder.__init__ = original


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
