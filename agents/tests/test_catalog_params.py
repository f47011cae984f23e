"""The catalog's query parameters never make a 500: NUL bytes, control characters, absurd pages."""

from __future__ import annotations

import pytest

from testutils import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("params", [
    {"q": "\x00"},
    {"q": "hel\x00per"},
    {"category": "\x00"},
    {"category": "GENERAL\x00"},
    {"page": "99999999999999999999"},
    {"page": "-3"},
    {"page": "abc"},
    {"page": "\x00"},
    {"q": "helper\x00", "category": "\x00", "page": "99999999999999999999"},
])
def test_odd_query_parameters_are_cleaned_not_a_500(owner, owner_client, params):
    factories.agent(owner, name="My helper")
    response = owner_client.get("/agents/", params)
    assert response.status_code == 200
    assert "My helper" in response.content.decode()  # the search and filters still work on what is left
    assert "\x00" not in response.content.decode()


def test_a_nul_inside_the_search_is_dropped_and_the_rest_searched(owner, owner_client):
    factories.agent(owner, name="My helper")
    factories.agent(owner, name="Other thing")
    response = owner_client.get("/agents/", {"q": "hel\x00per"})
    slugs = {card.agent.name for card in response.context["cards"]}
    assert slugs == {"My helper"}
    assert response.context["search"] == "helper"
