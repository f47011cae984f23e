"""The warm start (issue 15): gunicorn preloads the app and config.warmup readies it before the
fork; each worker then serves the warm-up pages once more before it accepts, with its heap frozen."""

import gc
import re

import pytest
import redis
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.template import engines

from config import gunicorn as gunicorn_conf
from config.warmup import WARM_PATHS, signed_in_paths, warm, warm_pages
from testutils.liveserver import gunicorn, login
from testutils.testing import PASSWORD, make_user

# What a signed-in pass could leave behind if its transaction were not rolled back.
TABLES = ("users", "account_emailaddress", "auth_sessions", "audit_logs", "user_settings", "monthly_usage")


def _rows() -> dict[str, int]:
    with connections["owner"].cursor() as cursor:  # the owner: row-level security hides nothing
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        return counts


def test_gunicorn_preloads_the_application():
    assert gunicorn_conf.preload_app is True


def test_pre_fork_freezes_the_preloaded_heap():
    gc.unfreeze()
    try:
        gunicorn_conf.pre_fork(None, None)
        # Frozen objects are never scanned: a worker's first full collection no longer walks the
        # master's heap (about 200 ms on the tenth request or so, before this).
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


@pytest.mark.django_db(transaction=True)
def test_warm_compiles_every_template_and_leaves_no_connection_open():
    figures = warm()
    assert figures["total_s"] > 0
    engine = engines["django"].engine
    cached = next(loader for loader in engine.template_loaders if hasattr(loader, "get_template_cache"))
    assert {"base.html", "home.html", "chats/detail.html", "admin/base_site.html"} <= set(cached.get_template_cache)
    # A connection made before gunicorn forks would be shared by every worker.
    assert all(connections[alias].connection is None for alias in connections)


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_warm_pages_serve_every_sidebar_page_signed_in_and_leave_nothing_behind():
    make_user("stays@example.com")
    before = _rows()
    store = redis.Redis.from_url(settings.REDIS_URL)
    keys_before = set(store.keys("*"))

    statuses = warm_pages(get_wsgi_application())

    assert {path: statuses[path] for path in WARM_PATHS} == {"/healthz": 200, "/accounts/login/": 200, "/": 302}
    signed_in = {path: statuses[f"{path} (signed in)"] for path in signed_in_paths()}
    assert {"/", "/documents/", "/files/", "/finance/", "/health/", "/usage/"} <= set(signed_in)
    assert set(signed_in.values()) == {200}, signed_in
    assert _rows() == before  # the person, its session, its sign-in's audit row: all rolled back
    assert before["users"] == 1
    assert set(store.keys("*")) - keys_before == set()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_each_gunicorn_worker_warms_before_it_accepts(tmp_path):
    user = make_user("early@example.com")
    users_before = _rows()["users"]
    log = tmp_path / "gunicorn.log"
    with gunicorn(database=settings.DATABASES["default"]["NAME"], workers=2, threads=4, log_to=log) as url:
        client = login(url, user.email, PASSWORD)
        assert client.get("/documents/").status_code == 200
    text = log.read_text(errors="replace")
    assert len(set(re.findall(r"worker (\d+) warmed in \d+ ms", text))) == 2, text[-2000:]
    assert "warm-up" not in text and "could not warm" not in text, text[-2000:]  # no page of the warm-up failed
    assert _rows()["users"] == users_before
