"""The retrieval settings page: saves valid values, refuses bad ones without changing anything."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import UserSettings
from core.tenancy import tenant
from rag.models import RagDocument, RagSettings, Source

pytestmark = pytest.mark.django_db


def settings_of(user) -> RagSettings:
    with tenant(user.id):
        return RagSettings.objects.get(user=user)


def with_collections(user, *names: str) -> None:
    with tenant(user.id):
        for name in names:
            RagDocument.objects.create(user=user, title=f"In {name}", source=Source.PASTE, collection=name)


def test_the_page_shows_the_current_settings_and_the_users_collections(owner_client, owner, other):
    with_collections(owner, "Work", "Home")
    with_collections(other, "Secret plans")
    response = owner_client.get(reverse("rag:settings"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="top_k" value="5"' in html and 'name="threshold" value="0.000"' in html
    assert 'value="Work"' in html and 'value="Home"' in html and "Secret plans" not in html
    assert "Leave all unchecked to search every document." in html
    assert "Minimum relevance" in html and "From 0 to 1." in html
    assert reverse("accounts:settings") in html and "use my documents (RAG)" in html
    assert "Agents use your documents" in html


def test_the_page_says_when_rag_is_switched_off(owner_client, owner):
    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).update(rag_enabled=False)
    html = owner_client.get(reverse("rag:settings")).content.decode()
    assert "Agents do not use your documents now" in html


def test_without_collections_every_document_is_searched(owner_client):
    html = owner_client.get(reverse("rag:settings")).content.decode()
    assert "You have no collections yet" in html


def test_valid_values_are_saved(owner_client, owner):
    with_collections(owner, "Work", "Home")
    response = owner_client.post(reverse("rag:settings"), {"top_k": "12", "threshold": "0.35", "collections": ["Work"]})
    assert response.status_code == 302 and response.url == reverse("rag:settings")
    saved = settings_of(owner)
    assert (saved.top_k, saved.threshold, saved.collections) == (12, Decimal("0.350"), ["Work"])
    page = owner_client.get(response.url).content.decode()
    assert "Your retrieval settings were saved." in page and 'value="Work" id="id_collections_' in page
    assert 'checked' in page

    # None chosen means all collections.
    response = owner_client.post(reverse("rag:settings"), {"top_k": "50", "threshold": "1"})
    assert response.status_code == 302
    saved = settings_of(owner)
    assert (saved.top_k, saved.threshold, saved.collections) == (50, Decimal("1.000"), [])


@pytest.mark.parametrize("data, message", [
    ({"top_k": "0", "threshold": "0.2"}, "Enter a number from 1 to 50."),
    ({"top_k": "100", "threshold": "0.2"}, "Enter a number from 1 to 50."),
    ({"top_k": "", "threshold": "0.2"}, "Enter a number from 1 to 50."),
    ({"top_k": "five", "threshold": "0.2"}, "Enter a whole number from 1 to 50."),
    ({"top_k": "5", "threshold": "2"}, "Enter a number from 0 to 1."),
    ({"top_k": "5", "threshold": "-0.1"}, "Enter a number from 0 to 1."),
    ({"top_k": "5", "threshold": "high"}, "Enter a number from 0 to 1, for example 0.35."),
    ({"top_k": "5", "threshold": "0.12345"}, "Use at most 3 decimal places, for example 0.35."),
    ({"top_k": "5", "threshold": "0.2", "collections": ["Work", "Unknown"]}, "“Unknown” is not one of your collections."),
])
def test_bad_values_are_refused_and_nothing_changes(owner_client, owner, other, data, message):
    with_collections(owner, "Work")
    with_collections(other, "Unknown")  # another user's collection is unknown to this one
    response = owner_client.post(reverse("rag:settings"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    saved = settings_of(owner)
    assert (saved.top_k, saved.threshold, saved.collections) == (5, Decimal("0"), [])


def test_a_chosen_collection_without_documents_stays_listed_so_it_can_be_unchecked(owner_client, owner):
    with_collections(owner, "Old")
    assert owner_client.post(reverse("rag:settings"), {"top_k": "5", "threshold": "0", "collections": ["Old"]}).status_code == 302
    with tenant(owner.id):
        RagDocument.objects.filter(user=owner).delete()
    html = owner_client.get(reverse("rag:settings")).content.decode()
    assert "Old (no documents now)" in html
    assert owner_client.post(reverse("rag:settings"), {"top_k": "5", "threshold": "0"}).status_code == 302
    assert settings_of(owner).collections == []


def test_settings_are_per_user(owner_client, owner, other):
    owner_client.post(reverse("rag:settings"), {"top_k": "9", "threshold": "0.5"})
    assert settings_of(owner).top_k == 9
    assert settings_of(other).top_k == 5
