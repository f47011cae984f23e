"""The warm start (issue 15): gunicorn preloads the app and config.warmup readies it before the fork."""

import pytest
from django.db import connections
from django.template import engines

from config import gunicorn as gunicorn_conf
from config.warmup import warm


def test_gunicorn_preloads_the_application():
    assert gunicorn_conf.preload_app is True


@pytest.mark.django_db(transaction=True)
def test_warm_compiles_every_template_and_leaves_no_connection_open():
    figures = warm()
    assert figures["total_s"] > 0
    engine = engines["django"].engine
    cached = next(loader for loader in engine.template_loaders if hasattr(loader, "get_template_cache"))
    assert {"base.html", "home.html", "chats/detail.html", "admin/base_site.html"} <= set(cached.get_template_cache)
    # A connection made before gunicorn forks would be shared by every worker.
    assert all(connections[alias].connection is None for alias in connections)
