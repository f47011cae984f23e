"""The session row and its user's row in one query (accounts.sessions.SessionStore.load and
session_user), with Django's rules for who ``request.user`` is kept: a deactivated, deleted or
re-passworded user is signed out, a rotated secret key renews the session, and a backend of another
kind still answers for its users itself."""

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuthSession, User
from accounts.sessions import SessionStore, token_digest
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"
OWN_LOOKUP_BACKEND = f"{__name__}.OwnLookupBackend"


class OwnLookupBackend(ModelBackend):
    """A backend that finds its users its own way: the joined row must not stand in for it."""

    def get_user(self, user_id):
        return super().get_user(user_id)


def _page_queries(client, url="/account/sessions/"):
    client.get(url)  # the client's first request: caches settle
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries]


def _reads_users(sql: str) -> bool:
    return 'FROM "users"' in sql or "JOIN users" in sql or 'JOIN "users"' in sql


def _row(client):
    return AuthSession.objects.get(session_token=token_digest(client.cookies["sessionid"].value))


def test_a_signed_in_page_reads_the_session_and_its_user_in_one_query(owner, settings):
    html, queries = _page_queries(client_for(owner))
    assert ">Olivia<" in html and "This browser" in html
    assert [sql for sql in queries if "auth_sessions" in sql][:1] == [sql for sql in queries if _reads_users(sql)][:1]
    user_reads = [sql for sql in queries if _reads_users(sql) and "auth_sessions" not in sql]
    assert user_reads == []
    # The same page for a user of a backend that looks its users up itself: one query more, the user's.
    settings.AUTHENTICATION_BACKENDS = [ALLAUTH_BACKEND, OWN_LOOKUP_BACKEND]
    other_client = client_for(owner)
    other_client.force_login(owner, backend=OWN_LOOKUP_BACKEND)
    other_html, other_queries = _page_queries(other_client)
    assert ">Olivia<" in other_html and "This browser" in other_html
    assert len(other_queries) == len(queries) + 1
    assert len([sql for sql in other_queries if 'FROM "users"' in sql and "auth_sessions" not in sql]) == 1


def test_request_user_is_the_users_row_as_it_is_now(owner):
    client = client_for(owner)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=owner.pk).update(name="Renamed", role="ADMIN")
    html = client.get("/").content.decode()
    assert ">Renamed<" in html and 'href="/admin/"' in html  # staff links follow the role


def test_a_deactivated_users_session_is_anonymous(owner):
    client = client_for(owner)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=owner.pk).update(deleted_at=timezone.now())
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/account/sessions/").status_code == 302
    User.objects.filter(pk=owner.pk).update(deleted_at=None)  # the session itself was never revoked
    assert client.get("/").status_code == 200


def test_a_deleted_users_browser_is_signed_out(owner):
    client = client_for(owner)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=owner.pk).delete()
    assert not AuthSession.objects.exists()
    assert client.get("/").status_code == 302


def test_a_password_changed_elsewhere_signs_this_browser_out(owner):
    client = client_for(owner)
    row = _row(client)
    user = User.objects.get(pk=owner.pk)
    user.set_password("a whole new passphrase 42")
    user.save()
    assert client.get("/").status_code == 302
    assert not AuthSession.objects.filter(pk=row.pk).exists()  # flushed, as Django's get_user does


def test_a_rotated_secret_key_renews_the_session(owner, settings):
    client = client_for(owner)
    old_key = client.cookies["sessionid"].value
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    assert client.get("/").status_code == 200
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert not AuthSession.objects.filter(session_token=token_digest(old_key)).exists()
    store = SessionStore(new_key)
    assert store[HASH_SESSION_KEY] == User.objects.get(pk=owner.pk).get_session_auth_hash()
    assert client.get("/").status_code == 200


def test_an_expired_session_carries_no_user(owner):
    client = client_for(owner)
    AuthSession.objects.update(expires=timezone.now())
    store = SessionStore(client.cookies["sessionid"].value)
    assert store.load() == {} and store.loaded_user is None
    assert client.get("/").status_code == 302


def test_the_loaded_user_is_the_orms_user(owner):
    client = client_for(owner)
    store = SessionStore(client.cookies["sessionid"].value)
    store.load()
    loaded, fetched = store.loaded_user, User.objects.get(pk=owner.pk)
    assert loaded == fetched and not loaded._state.adding and loaded._state.db == "default"
    assert {f.attname: getattr(loaded, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(fetched, f.attname) for f in User._meta.concrete_fields
    }
    anonymous = SessionStore()
    anonymous["theme"] = "dark"
    anonymous.save()
    reread = SessionStore(anonymous.session_key)
    assert reread.load() == {"theme": "dark"} and reread.loaded_user is None


def test_staff_reach_the_admin_and_users_do_not(owner):
    staff = make_user(role="SUPPORT")
    assert client_for(staff).get("/admin/").status_code == 200
    assert client_for(owner).get("/admin/").status_code == 302
