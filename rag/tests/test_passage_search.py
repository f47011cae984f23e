"""The documents page's search finds passages (hybrid), marks the words that matched and links to
the passage; it never shows another user's, and bad input changes nothing (issue 08 item 4)."""

from __future__ import annotations

import pytest

from rag import services
from rag.snippets import highlight
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

GARDEN = "# Garden guide\n\n## Watering\n\n" + "Water the tomatoes every morning before nine. " * 10 + \
    "\n\n## Compost\n\n" + "Turn the compost heap each fortnight so the worms breathe. " * 10
SONGS = "# Cancionero\n\n## Canciones\n\n" + "La canción de cuna se canta despacio, con la voz baja. " * 10


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _add(user, title, text, django_capture_on_commit_callbacks, collection=""):
    with django_capture_on_commit_callbacks(execute=True):
        return services.document_create_from_text(user=user, title=title, text=text, collection=collection)


def test_search_finds_a_passage_by_its_words_not_its_title(owner, django_capture_on_commit_callbacks):
    document = _add(owner, "Notes", GARDEN, django_capture_on_commit_callbacks)
    client = client_for(owner)
    html = client.get("/documents/", {"q": "compost worms"}).content.decode()
    assert "Passages" in html
    assert f'href="/documents/{document.id}/#chunk-' in html
    assert "<mark>compost</mark>" in html and "<mark>worms</mark>" in html
    # The title filter alone would have found nothing: the document is called "Notes".
    assert "No documents match" not in html


def test_accents_and_inflections_match(owner, django_capture_on_commit_callbacks):
    _add(owner, "Cancionero", SONGS, django_capture_on_commit_callbacks)
    html = client_for(owner).get("/documents/", {"q": "cancion"}).content.decode()
    assert "<mark>canción</mark>" in html


def test_another_users_passages_are_never_shown(owner, django_capture_on_commit_callbacks):
    _add(owner, "Notes", GARDEN, django_capture_on_commit_callbacks)
    stranger = make_user("stranger@example.com")
    html = client_for(stranger).get("/documents/", {"q": "compost worms"}).content.decode()
    assert "<mark>" not in html and "#chunk-" not in html and "breathe" not in html
    assert "No passage matches this search." in html


def test_collection_narrows_the_passages(owner, django_capture_on_commit_callbacks):
    _add(owner, "Garden", GARDEN, django_capture_on_commit_callbacks, collection="home")
    _add(owner, "Songs", SONGS, django_capture_on_commit_callbacks, collection="music")
    client = client_for(owner)
    assert "<mark>compost</mark>" not in client.get("/documents/", {"q": "compost", "collection": "music"}).content.decode()
    assert "<mark>compost</mark>" in client.get("/documents/", {"q": "compost", "collection": "home"}).content.decode()


def test_a_passage_cannot_inject_markup(owner, django_capture_on_commit_callbacks):
    _add(owner, "Evil", "Compost <script>alert(1)</script> and <b>bold</b> words. " * 5, django_capture_on_commit_callbacks)
    html = client_for(owner).get("/documents/", {"q": "compost"}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("q", ["\x00", "compost\x00worms", "<mark>x</mark>", "ñ" * 500])
def test_bad_search_input_never_500(owner, django_capture_on_commit_callbacks, q):
    _add(owner, "Notes", GARDEN, django_capture_on_commit_callbacks)
    assert client_for(owner).get("/documents/", {"q": q}).status_code == 200


def test_highlight_is_escaped_and_bounded():
    text = "alpha " * 100 + "<b>compost</b> heap " + "omega " * 100
    snippet = highlight(text, "compost")
    assert "<mark>compost</mark>" in snippet and "&lt;b&gt;" in snippet
    assert len(snippet) < 400 and snippet.startswith("… ") and snippet.endswith(" …")
    assert highlight("nothing here", "compost") == "nothing here"
