"""The conversation list's query parameters never make a 500: NUL bytes, absurd or garbage pages."""

import pytest

from core.tenancy import tenant
from testutils import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def searchable(owner, conversation):
    with tenant(owner.id):
        factories.message(owner, conv=conversation, content="Planning a trip to the mountains")
    return conversation


@pytest.mark.parametrize("params", [
    {"q": "mountains", "page": "99999999999999999999"},
    {"q": "mountains", "page": "-2"},
    {"q": "mountains", "page": "zz"},
    {"q": "mountains", "page": "\x00"},
    {"q": "\x00"},
    {"q": "moun\x00tains"},
    {"category": "\x00"},
    {"page": "99999999999999999999"},
    {"page": "-1"},
    {"page": "\x00"},
])
def test_odd_query_parameters_are_cleaned_not_a_500(owner_client, searchable, params):
    response = owner_client.get("/chat/", params)
    assert response.status_code == 200
    assert "\x00" not in response.content.decode()


def test_the_search_still_finds_after_cleaning(owner_client, searchable):
    page = owner_client.get("/chat/", {"q": "moun\x00tains"}).content.decode()
    assert "<mark>mountains</mark>" in page
    absurd = owner_client.get("/chat/", {"q": "mountains", "page": "99999999999999999999"})
    assert absurd.context["page_number"] == 1 and len(absurd.context["hits"]) == 1  # not a number: page 1
    beyond = owner_client.get("/chat/", {"q": "mountains", "page": "123456789"})
    assert beyond.context["page_number"] == 10_000 and beyond.context["hits"] == []  # capped, past the end
