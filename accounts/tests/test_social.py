"""Social login through allauth's real GitHub provider, against a fake GitHub on 127.0.0.1."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.db import connection

from accounts.models import Account, User
from core.tenancy import tenant
from testutils.fakes.server import FakeHandler, FakeServer

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "gho_fake_access_token_123"


class FakeGitHub(FakeHandler):
    def do_POST(self):
        body = parse_qs(self.read_body().decode())
        self.record(body=body)
        if self.path_only == "/login/oauth/access_token" and body.get("code") == ["good-code"]:
            self.send_json({"access_token": ACCESS_TOKEN, "token_type": "bearer", "scope": "user:email"})
        else:
            self.send_json({"error": "bad_verification_code"}, status=400)

    def do_GET(self):
        self.record()
        if self.headers.get("Authorization") != f"token {ACCESS_TOKEN}":
            self.send_json({"message": "Bad credentials"}, status=401)
        elif self.path_only == "/api/v3/user":
            self.send_json({"id": 4242, "login": "octo", "name": "Octo Cat", "email": "octo@example.com"})
        elif self.path_only == "/api/v3/user/emails":
            self.send_json([{"email": "octo@example.com", "primary": True, "verified": True}])
        else:
            self.send_json({"message": "Not Found"}, status=404)


@pytest.fixture
def github(settings, monkeypatch):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "client-1", "secret": "shh", "key": ""}], "SCOPE": ["user:email"]}
    }
    with FakeServer(FakeGitHub) as server:
        # allauth computes GitHub's URLs at import (GITHUB_URL is for GitHub Enterprise): point them here.
        monkeypatch.setattr(GitHubOAuth2Adapter, "access_token_url", f"{server.url}/login/oauth/access_token")
        monkeypatch.setattr(GitHubOAuth2Adapter, "authorize_url", f"{server.url}/login/oauth/authorize")
        monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{server.url}/api/v3/user")
        monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{server.url}/api/v3/user/emails")
        yield server


def test_providers_appear_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "a", "secret": "b", "key": ""}]},
        "google": {"APPS": [{"client_id": "c", "secret": "d", "key": ""}]},
    }
    html = client.get("/accounts/login/").content.decode()
    assert "GitHub" in html and "Google" in html


def _github_login(client, github, code="good-code"):
    start = client.post("/accounts/github/login/")
    assert start.status_code == 302 and start["Location"].startswith(github.url)
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    return client.get("/accounts/github/login/callback/", {"code": code, "state": state})


def test_github_signup_mirrors_the_token_encrypted(client, github):
    response = _github_login(client, github)
    assert response.status_code == 302
    user = User.objects.get(email="octo@example.com")
    assert client.get("/").status_code == 200
    assert SocialAccount.objects.filter(user=user, provider="github", uid="4242").exists()
    assert not SocialToken.objects.exists()  # allauth's own (clear-text) token storage is off
    with tenant(user.id):
        account = Account.objects.get(user=user)
        assert (account.provider, account.provider_account_id, account.access_token) == ("github", "4242", ACCESS_TOKEN)
        with connection.cursor() as cursor:
            cursor.execute("SELECT access_token FROM accounts WHERE id = %s", [account.id])
            assert ACCESS_TOKEN not in cursor.fetchone()[0]


def test_failed_code_exchange_shows_an_error_and_creates_nothing(client, github):
    response = _github_login(client, github, code="bad-code")
    assert response.status_code == 401
    assert "Third-Party Login Failure" in response.content.decode()
    assert not User.objects.filter(email="octo@example.com").exists()
