"""An agent's knowledge (issue 07 item 9): its owner picks collections and documents of their own
library on the agent form; stored in ``config["knowledge"]``, validated by the service for every
caller, shown on the agent page; nobody else's documents can be named, and an admin editing
someone's agent leaves the scope as it is."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agents import services, validation
from agents.models import Agent
from chats.models import ConversationDocument
from core.tenancy import tenant
from rag.models import RagDocument
from testutils import factories

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Home helper",
    "slug": "",
    "description": "",
    "category": "GENERAL",
    "model": "offline",
    "system_prompt": "",
    "temperature": "0.70",
    "max_tokens": "800",
}


def _document(user, title, collection=""):
    with tenant(user.id):
        return RagDocument.objects.create(user=user, title=title, source="PASTE", content="text", collection=collection)


@pytest.fixture
def library(owner):
    return {
        "lease": _document(owner, "Flat lease", "home"),
        "garden": _document(owner, "Garden notes", "home"),
        "boat": _document(owner, "Boat club", "leisure"),
    }


def _checked(html: str, value) -> bool:
    tag = re.search(rf'<input type="checkbox"[^>]*value="{value}"[^>]*>', html)
    assert tag, value
    return " checked" in tag.group(0)


def _agent(owner, **config):
    agent = factories.agent(owner, name="Mine", slug="mine")
    if config:
        agent.config = {**agent.config, "knowledge": config}
        agent.save(update_fields=["config"])
    return agent


def test_the_form_offers_the_owners_collections_and_library_documents_only(owner, owner_client, other, library):
    theirs = _document(other, "Their secret diary", "diary")
    attached = _document(owner, "Attached to a chat")
    with tenant(owner.id):
        chat = factories.conversation(owner, agent_=factories.agent(owner))
        ConversationDocument.objects.create(user=owner, conversation=chat, document=attached)
    html = owner_client.get("/agents/new/").content.decode()
    assert "<legend>Knowledge</legend>" in html
    for name in ("home", "leisure"):
        assert f'value="{name}"' in html
    for document in library.values():
        assert f'value="{document.id}"' in html and document.title in html
    assert "Their secret diary" not in html and str(theirs.id) not in html and "diary" not in html
    assert str(attached.id) not in html  # a chat's file is that chat's only


def test_creating_with_knowledge_stores_it_and_the_page_shows_it(owner, owner_client, library):
    response = owner_client.post("/agents/new/", {**VALID, "knowledge_collections": ["home"],
                                                  "knowledge_documents": [str(library["boat"].id)]})
    assert response.status_code == 302
    agent = Agent.objects.get()
    assert agent.config["knowledge"] == {"collections": ["home"], "documents": [str(library["boat"].id)]}
    page = owner_client.get(f"/agents/{agent.slug}/").content.decode()
    assert "Your documents in the collections:" in page and '<li class="badge">home</li>' in page
    assert "1 document of yours chosen one by one" in page


def test_editing_shows_the_current_choices_and_clearing_removes_the_scope(owner, owner_client, library):
    agent = _agent(owner, collections=["home"], documents=[str(library["boat"].id)])
    html = owner_client.get("/agents/mine/edit/").content.decode()
    assert _checked(html, "home") and not _checked(html, "leisure")
    assert _checked(html, library["boat"].id) and not _checked(html, library["lease"].id)
    response = owner_client.post("/agents/mine/edit/", {**VALID, "name": "Mine"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert "knowledge" not in agent.config
    assert "The whole document library of whoever chats with it." in owner_client.get("/agents/mine/").content.decode()


def test_another_users_document_cannot_be_named_and_nothing_is_saved(owner, owner_client, other, library):
    theirs = _document(other, "Their file")
    response = owner_client.post("/agents/new/", {**VALID, "knowledge_documents": [str(theirs.id)]})
    assert response.status_code == 400
    assert "Choose documents of your own library from the list." in response.content.decode()
    assert not Agent.objects.exists()


def test_the_service_refuses_what_the_form_would_for_any_caller(owner, other, library):
    theirs = _document(other, "Their file")
    base = {**VALID, "slug": None}
    for knowledge, field in [
        (validation.Knowledge(documents=(str(theirs.id),)), "knowledge_documents"),
        (validation.Knowledge(documents=("not-a-uuid",)), "knowledge_documents"),
        (validation.Knowledge(collections=("x" * 101,)), "knowledge_collections"),
        (validation.Knowledge(collections=tuple(f"c{i}" for i in range(21))), "knowledge_collections"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.agent_create(user=owner, knowledge=knowledge, **base)
        assert field in refused.value.message_dict
    assert not Agent.objects.exists()
    agent = services.agent_create(user=owner, knowledge=validation.Knowledge(
        collections=("home", "home"), documents=(str(library["lease"].id).upper(),)), **base)
    assert agent.config["knowledge"] == {"collections": ["home"], "documents": [str(library["lease"].id)]}


def test_an_admin_editing_someone_elses_agent_neither_sees_nor_changes_its_knowledge(owner, staff, staff_client, library):
    agent = _agent(owner, collections=["home"], documents=[str(library["lease"].id)])
    html = staff_client.get("/agents/mine/edit/").content.decode()
    assert "<legend>Knowledge</legend>" not in html and "Flat lease" not in html
    response = staff_client.post("/agents/mine/edit/", {**VALID, "name": "Renamed by staff"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Renamed by staff"
    assert agent.config["knowledge"] == {"collections": ["home"], "documents": [str(library["lease"].id)]}
    with pytest.raises(PermissionDenied):  # the service refuses too: the scope names the creator's documents
        services.agent_update(user=staff, agent=agent, knowledge=validation.Knowledge(), **{**VALID, "slug": None})
    agent.refresh_from_db()
    assert "knowledge" in agent.config


def test_someone_else_sees_what_a_shared_agent_answers_from_without_the_owners_documents(owner, other, other_client,
                                                                                        library):
    agent = _agent(owner, collections=["home"], documents=[str(library["lease"].id)])
    agent.is_public = True
    agent.save(update_fields=["is_public"])
    page = other_client.get("/agents/mine/").content.decode()
    assert "Your own documents in the collections:" in page and '<li class="badge">home</li>' in page
    assert "Documents its owner chose, which only they can read" in page
    assert "Flat lease" not in page and str(library["lease"].id) not in page


def test_knowledge_is_read_defensively():
    assert validation.knowledge_of({}) == validation.Knowledge()
    assert validation.knowledge_of({"knowledge": "everything"}) == validation.Knowledge()
    assert validation.knowledge_of({"knowledge": {"collections": ["a", "", 3, "a"]}}).collections == ("a",)
    broken = validation.knowledge_of({"knowledge": {"documents": ["nope"]}})
    assert broken.scoped and broken.documents == ("00000000-0000-0000-0000-000000000000",)
