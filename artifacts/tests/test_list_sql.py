"""The artifacts list's written-out queries (selectors.artifact_page and filter_choices): the same
rows, pages and filter choices as the ORM's, in two queries of the page's own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import UserAgentPermission
from agents.selectors import agents_for_user
from artifacts import selectors
from core.tenancy import tenant
from testutils import factories
from testutils.testing import client_for, make_user

from .conftest import make

pytestmark = pytest.mark.django_db


def _own_queries(client, url, **params) -> list[str]:
    client.get(url, params)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "artifacts" in q["sql"] or "FROM agents" in q["sql"]]


def test_the_filter_offers_the_agents_agents_for_user_has(owner, other, staff):
    support = make_user(role="SUPPORT")
    public = factories.agent(staff, name="Zed public", is_public=True)
    factories.agent(staff, name="Hidden public", is_public=True, is_active=False)
    mine = factories.agent(owner, name="Mine")
    factories.agent(owner, name="Mine, retired", is_active=False)
    granted = factories.agent(staff, name="Granted to owner")
    UserAgentPermission.objects.create(user=owner, agent=granted, granted_by=staff)
    factories.agent(other, name="Other's private")
    factories.agent(staff, name="Alpha public", is_public=True, slug="b-alpha")
    factories.agent(staff, name="Alpha public", is_public=True, slug="a-alpha")  # same name: by slug
    for person in (owner, other, staff, support):
        with tenant(person.id):
            agents, _languages = selectors.filter_choices(user=person)
            expected = [(a.pk, a.display_name) for a in agents_for_user(person)]
        assert [(a.pk, a.display_name) for a in agents] == expected, person.email
    with tenant(owner.id):
        names = [a.display_name for a in selectors.filter_choices(user=owner)[0]]
    assert names[:3] == ["Alpha public", "Alpha public", "Zed public"]
    assert set(names[3:]) == {"Granted to owner", "Mine"} and public.pk and mine.pk


def test_the_filter_lists_the_languages_of_my_code_only(owner, other):
    agent = factories.agent(owner, is_public=True)
    make(owner, agent, language="python")
    make(owner, agent, name="q.sql", language="sql")
    make(owner, agent, name="notes.md", type="MARKDOWN", content="# Notes")
    make(other, agent, name="x.rs", language="rust")
    with tenant(owner.id):
        assert selectors.filter_choices(user=owner)[1] == ["python", "sql"]


def test_the_list_reads_its_page_and_its_count_in_one_query(owner):
    agent = factories.agent(owner, is_public=True)
    for n in range(35):
        make(owner, agent, name=f"a{n:02}.py")
    client = client_for(owner)
    own = _own_queries(client, reverse("artifacts:list"))
    assert len(own) == 2 and "count(*)" in own[0] and "LIMIT" in own[0], own  # the page, then the filter's choices
    assert len(_own_queries(client, reverse("artifacts:list"), q="a0", language="python", page="2")) == 2
    page = client.get(reverse("artifacts:list"), {"page": "99"}).content.decode()  # past the end: the last page
    assert "Page 2 of 2" in page and "a04.py" in page and "a05.py" not in page and "35 artifacts" in page
    page = client.get(reverse("artifacts:list"), {"page": "1"}).content.decode()
    assert "Page 1 of 2" in page and "a34.py" in page and "a05.py" in page and "a04.py" not in page


def test_a_name_search_takes_percent_and_underscore_as_they_are(owner):
    agent = factories.agent(owner, is_public=True)
    make(owner, agent, name="100%_done.py")
    make(owner, agent, name="1000_done.py")
    make(owner, agent, name="10000done.py")
    with tenant(owner.id):
        assert [a.name for a in selectors.artifact_page(user=owner, search="%", size=30)[2]] == ["100%_done.py"]
        found = {a.name for a in selectors.artifact_page(user=owner, search="0_d", size=30)[2]}
    assert found == {"1000_done.py"}  # "_" is not a wildcard: 100%_done has "%_d", not "0_d"


def test_only_the_newest_version_of_each_line_is_listed_with_its_agent_and_conversation(owner, other):
    from artifacts import services

    agent = factories.agent(owner, name="Helper", is_public=True)
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    first = make(owner, agent, conversation, name="app.py", language="python")
    services.artifact_revise(user=owner, artifact=first, content="print('v2')\n")
    make(other, agent, name="theirs.py")
    with tenant(owner.id):
        total, number, rows = selectors.artifact_page(user=owner, size=30)
    assert (total, number, len(rows)) == (1, 1, 1)
    row = rows[0]
    assert (row.name, row.version, row.agent_name, row.conversation_id, row.conversation_title) == (
        "app.py", 2, "Helper", conversation.pk, conversation.title)
    assert isinstance(row.metadata, dict) and row.metadata["language"] == "python"
