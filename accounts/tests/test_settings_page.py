import pytest

from accounts.models import UserSettings
from core.tenancy import tenant

pytestmark = pytest.mark.django_db

VALID = {"default_model": "offline", "temperature": "0.30", "max_tokens": "900", "rag_enabled": "", "language": "es"}


def _settings(user):
    with tenant(user.id):
        return UserSettings.objects.get(user=user)


def test_settings_page_shows_my_settings(owner_client):
    page = owner_client.get("/account/settings/")
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Default model", "Temperature", "Max tokens per answer", "Language"):
        assert label in html
    assert 'value="offline"' in html


def test_saving_settings(owner_client, owner):
    response = owner_client.post("/account/settings/", VALID)
    assert response.status_code == 302
    saved = _settings(owner)
    assert (str(saved.temperature), saved.max_tokens, saved.rag_enabled, saved.language) == ("0.30", 900, False, "es")
    # The page now speaks Spanish.
    assert "Configuración" in owner_client.get("/account/settings/").content.decode()


@pytest.mark.parametrize(
    "field,value",
    [("temperature", "5"), ("temperature", "abc"), ("max_tokens", "0"), ("max_tokens", "999999"),
     ("default_model", "no-such-model"), ("language", "fr")],
)
def test_bad_settings_are_refused_and_change_nothing(owner_client, owner, field, value):
    before = _settings(owner)
    response = owner_client.post("/account/settings/", {**VALID, field: value})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    after = _settings(owner)
    assert (after.temperature, after.max_tokens, after.language) == (before.temperature, before.max_tokens, before.language)


def test_max_tokens_cannot_exceed_the_models_limit(owner_client):
    response = owner_client.post("/account/settings/", {**VALID, "max_tokens": "5000"})
    assert response.status_code == 400
    assert "at most 2048 tokens" in response.content.decode()


def test_settings_need_login(client):
    response = client.get("/account/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
