"""Helpers for support's tests: help articles indexed through the real pipeline."""

from __future__ import annotations

import pytest

from core.tenancy import bypass


@pytest.fixture
def publish(django_capture_on_commit_callbacks, staff):
    """publish(title, body, **fields) -> the article, indexed (the pipeline runs on commit, eagerly)."""
    from support import services
    from support.models import HelpArticle

    def make(title: str, body: str, **fields):
        from django.utils.text import slugify

        with django_capture_on_commit_callbacks(execute=True), bypass("test: help article", actor_id=staff.id):
            article = HelpArticle(title=title, slug=fields.pop("slug", slugify(title)), body=body,
                                  is_published=fields.pop("is_published", True), **fields)
            services.help_article_save(actor=staff, article=article, created=True)
        return article

    return make


@pytest.fixture
def support_user(db):
    from testutils.testing import make_user

    return make_user("helper@example.com", role="SUPPORT", name="Hana Helper")


@pytest.fixture
def support_client(support_user):
    from testutils.testing import client_for

    return client_for(support_user)
