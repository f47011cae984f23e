"""The passage panel (``rag:passage``): one passage of the person's own document, as the chat's
source panel shows it (a fragment when static/js/sources.js asks, a page otherwise). Another
user's document, a deleted one and a passage it no longer has all answer 404 with the same
"no longer available" panel. Through the views, as the runtime role (row-level security on)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from core.tenancy import tenant
from rag import indexing
from rag.models import RagChunk, RagDocument

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
GONE = "This passage is no longer available: its document was deleted, or indexed again without it."
LEASE = ("# Lease summary\n\n## Rent\n\nThe monthly rent is 1,250 euros, due on the fifth day of each month.\n\n"
         "## Pets\n\nSmall pets are allowed with a deposit of 300 euros & a <b>signed</b> form.")


@pytest.fixture
def lease(owner):
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Flat lease", source="PASTE", content=LEASE)
    indexing.index_document(user_id=owner.id, document_id=document.id)
    return document


def _chunk(owner, document, text):
    with tenant(owner.id):
        return next(c for c in RagChunk.objects.filter(document=document).order_by("position") if text in c.content)


def test_the_owner_gets_the_passage_as_a_fragment(owner, owner_client, lease):
    chunk = _chunk(owner, lease, "Small pets")
    response = owner_client.get(reverse("rag:passage", args=[lease.id, chunk.position]), **FETCH)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<article class="passage-panel" data-passage-panel>') and "<html" not in body
    assert "Small pets are allowed with a deposit of 300 euros &amp; a &lt;b&gt;signed&lt;/b&gt; form." in body
    assert "Lease summary › Pets" in body  # the heading path apart from the text
    assert f"Passage {chunk.position + 1}" in body
    assert f'href="{reverse("rag:document", args=[lease.id])}#chunk-{chunk.position}"' in body
    assert "Open “Flat lease” in Documents" in body
    assert "X-Requested-With" in response["Vary"] and response["Cache-Control"] == "private, no-store"


def test_opened_as_a_page_it_is_a_page(owner, owner_client, lease):
    chunk = _chunk(owner, lease, "monthly rent")
    response = owner_client.get(reverse("rag:passage", args=[lease.id, chunk.position]))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and "<h1>Flat lease</h1>" in body
    assert "The monthly rent is 1,250 euros" in body


def test_an_outsider_gets_404_and_learns_nothing(owner, other_client, lease):
    chunk = _chunk(owner, lease, "monthly rent")
    response = other_client.get(reverse("rag:passage", args=[lease.id, chunk.position]), **FETCH)
    assert response.status_code == 404
    body = response.content.decode()
    assert GONE in body and "1,250" not in body and "Flat lease" not in body
    # Exactly what a document that never existed answers.
    unknown = other_client.get(reverse("rag:passage", args=[uuid.uuid4(), chunk.position]), **FETCH)
    assert unknown.status_code == 404 and unknown.content == response.content
    page = other_client.get(reverse("rag:passage", args=[lease.id, chunk.position]))
    assert page.status_code == 404 and "Flat lease" not in page.content.decode()


def test_a_deleted_document_gives_a_clear_panel(owner, owner_client, lease):
    chunk = _chunk(owner, lease, "monthly rent")
    url = reverse("rag:passage", args=[lease.id, chunk.position])
    response = owner_client.post(reverse("rag:delete", args=[lease.id]))
    assert response.status_code == 302
    with tenant(owner.id):
        assert not RagDocument.objects.filter(pk=lease.pk).exists()
    response = owner_client.get(url, **FETCH)
    assert response.status_code == 404
    body = response.content.decode()
    assert GONE in body and "data-passage-panel" in body and "1,250" not in body
    page = owner_client.get(url)
    assert page.status_code == 404 and "Passage not available" in page.content.decode() and GONE in page.content.decode()


def test_a_passage_the_document_no_longer_has(owner, owner_client, lease):
    with tenant(owner.id):
        last = RagChunk.objects.filter(document=lease).order_by("-position").first().position
    response = owner_client.get(reverse("rag:passage", args=[lease.id, last + 1]), **FETCH)
    assert response.status_code == 404 and GONE in response.content.decode()


def test_an_absurd_position_is_not_a_500(owner, owner_client, lease):
    for position in (2**31, 10**30):
        response = owner_client.get(f"{reverse('rag:document', args=[lease.id])}passages/{position}/", **FETCH)
        assert response.status_code == 404 and GONE in response.content.decode()
    assert owner_client.get(f"{reverse('rag:document', args=[lease.id])}passages/-1/", **FETCH).status_code == 404


def test_only_get_and_only_signed_in(owner, owner_client, client, lease):
    url = reverse("rag:passage", args=[lease.id, 0])
    assert owner_client.post(url).status_code == 405
    response = client.get(url, **FETCH)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
