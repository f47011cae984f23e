"""The Documents pages: adding documents every way, their indexing state, the document page, re-index,
delete, access rules and the list's query count. Everything through the pages, as the runtime role."""

from __future__ import annotations

import io
import re

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from core.tenancy import tenant
from rag.models import RagChunk, RagDocument, Source, Status
from storage.models import StorageFile

pytestmark = pytest.mark.django_db

LONG_TEXT = "# Garden guide\n\n## Watering\n\n" + "Water the tomatoes every morning before nine. " * 25 + \
    "\n\n## Pruning\n\n" + "Cut the side shoots of the tomato plants weekly. " * 25


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- builders -------------------------------------------------------------------------------------------


def make_pdf(lines: list[str], *, password: str | None = None) -> bytes:
    """A real one-page PDF drawing ``lines`` in Helvetica, so it has a text layer."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    page = writer.add_blank_page(612, 792)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    operations = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    operations += [f"({line}) Tj T*" for line in lines]
    operations.append("ET")
    stream = DecodedStreamObject()
    stream.set_data("\n".join(operations).encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-" + password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Team handbook", level=1)
    document.add_paragraph("Holidays are requested two weeks ahead through the portal.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FORMATS = {
    "notes.txt": ("The boiler is serviced every October by the landlord.".encode(), "boiler is serviced every October"),
    "readme.md": (b"# Setup\n\nInstall the package with pip and run the migrations.", "Install the package with pip"),
    "page.html": (b"<html><head><title>Trip</title></head><body><h1>Trip</h1><p>The ferry leaves at noon.</p></body></html>",
                  "The ferry leaves at noon."),
    "page.htm": (b"<!DOCTYPE html><html><body><p>Museums close on Mondays in the old town.</p></body></html>",
                 "Museums close on Mondays"),
    "prices.csv": (b"item,price\napples,3\npears,4\n", "apples"),
    "report.pdf": (make_pdf(["Quarterly revenue grew by twelve percent."]), "Quarterly revenue grew by twelve percent."),
    "handbook.docx": (make_docx(), "Holidays are requested two weeks ahead"),
}


# --- helpers --------------------------------------------------------------------------------------------


def upload(client, name: str, data: bytes, **fields):
    return client.post(reverse("rag:add_file"), {"file": SimpleUploadedFile(name, data), **fields})


def only_document(user) -> RagDocument:
    with tenant(user.id):
        return RagDocument.objects.get(user=user)


def chunk_count(user, document) -> int:
    with tenant(user.id):
        return RagChunk.objects.filter(document_id=document.id).count()


def vectors_of(user, document_id) -> list[str]:
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM rag_vectors WHERE document_id = %s ORDER BY id", [document_id])
        return [row[0] for row in cursor.fetchall()]


def page_text(response) -> str:
    return response.content.decode()


def make_document(user, **fields) -> RagDocument:
    fields.setdefault("title", "A document")
    fields.setdefault("source", Source.PASTE)
    with tenant(user.id):
        return RagDocument.objects.create(user=user, **fields)


def add_text(client, captured, title="Garden guide", text=LONG_TEXT, **fields) -> None:
    with captured(execute=True):
        response = client.post(reverse("rag:add_text"), {"title": title, "text": text, **fields})
    assert response.status_code == 302, page_text(response)


# --- adding files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_uploads_and_is_indexed(owner_client, owner, django_capture_on_commit_callbacks, name):
    data, expected = FORMATS[name]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(owner_client, name, data, tags="Work, 2024", collection="Office")
    assert response.status_code == 302 and response.url == reverse("rag:list")
    document = only_document(owner)
    assert document.status == Status.INDEXED, document.error_message
    assert document.source == Source.FILE and document.tags == ["work", "2024"] and document.collection == "Office"
    assert document.chunk_count == chunk_count(owner, document) > 0
    assert len(vectors_of(owner, document.id)) == document.chunk_count

    listing = page_text(owner_client.get(reverse("rag:list")))
    assert document.title in listing and "Indexed · " in listing and "Office" in listing and "work" in listing
    detail = owner_client.get(reverse("rag:document", args=[document.id]))
    assert detail.status_code == 200
    assert expected in page_text(detail)
    assert 'id="chunk-0"' in page_text(detail)


def test_the_add_page_offers_three_ways_with_csrf(owner_client):
    response = owner_client.get(reverse("rag:add"))
    html = page_text(response)
    assert response.status_code == 200
    for name in ("rag:add_file", "rag:add_text", "rag:add_url"):
        assert f'action="{reverse(name)}"' in html
    assert html.count("csrfmiddlewaretoken") >= 3
    assert 'enctype="multipart/form-data"' in html
    assert 'accept=".txt,.md,.html,.htm,.pdf,.csv,.docx"' in html


@pytest.mark.parametrize("name, data, reason", [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage\n%%EOF", "damaged"),
    ("secret.pdf", make_pdf(["Top secret plans."], password="hunter2"), "password"),
    ("blank.txt", b"   \n\n   \t\n", "empty"),
    ("data.txt", bytes(range(256)) * 8, "not a readable text document"),
])
def test_unreadable_files_end_failed_with_the_reason_and_no_chunks(owner_client, owner, django_capture_on_commit_callbacks,
                                                                   name, data, reason):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(owner_client, name, data)
    assert response.status_code == 302
    document = only_document(owner)
    assert document.status == Status.FAILED and reason in document.error_message.lower()
    assert chunk_count(owner, document) == 0 and vectors_of(owner, document.id) == []
    listing = page_text(owner_client.get(reverse("rag:list")))
    assert "Failed: " in listing and reason in listing.lower()
    detail = page_text(owner_client.get(reverse("rag:document", args=[document.id])))
    assert "could not be indexed" in detail and 'id="chunk-' not in detail


def test_an_empty_file_is_refused_at_once(owner_client, owner):
    response = upload(owner_client, "empty.txt", b"")
    assert response.status_code == 400
    assert "This file is empty." in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists() and not StorageFile.objects.exists()


@pytest.mark.parametrize("fields, message", [
    ({}, "Choose a file to upload."),
    ({"file": SimpleUploadedFile("setup.exe", b"MZ\x90\x00binary")}, "Files of this type are not supported."),
    ({"file": SimpleUploadedFile("archive.zip", b"PK\x03\x04")}, "Files of this type are not supported."),
    ({"file": SimpleUploadedFile("notes.txt", b"fine"), "tags": ",".join(f"t{i}" for i in range(21))}, "at most 20 tags"),
    ({"file": SimpleUploadedFile("notes.txt", b"fine"), "tags": "x" * 41}, "at most 40 characters"),
    ({"file": SimpleUploadedFile("notes.txt", b"fine"), "collection": "c" * 101}, "at most 100 characters"),
])
def test_bad_uploads_show_an_error_and_store_nothing(owner_client, owner, fields, message):
    response = owner_client.post(reverse("rag:add_file"), fields)
    assert response.status_code == 400
    assert message in page_text(response)
    assert "The document was not added." in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists() and not StorageFile.objects.exists()


def test_a_storage_refusal_is_shown_and_stores_nothing_more(owner_client, owner, django_capture_on_commit_callbacks):
    data = b"The same file twice."
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(owner_client, "first.txt", data).status_code == 302
    response = upload(owner_client, "again.txt", data)
    assert response.status_code == 400
    assert "You have already uploaded this exact file." in page_text(response)
    with tenant(owner.id):
        assert RagDocument.objects.count() == 1 and StorageFile.objects.count() == 1


def test_an_oversized_upload_is_refused_while_receiving(owner_client, owner, settings):
    settings.RAG_MAX_UPLOAD_BYTES = 1000
    response = upload(owner_client, "big.txt", b"a" * 5000, title="Big")
    assert response.status_code == 413
    assert "This file is too large. The limit is 1000" in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists() and not StorageFile.objects.exists()


def test_an_oversized_upload_is_refused_from_its_declared_length_without_reading_it(owner, settings, rf):
    from rag import views

    settings.RAG_MAX_UPLOAD_BYTES = 1000
    request = rf.post(reverse("rag:add_file"), {"file": SimpleUploadedFile("big.txt", b"a" * 40_000)})
    request.user = owner
    with tenant(owner.id):
        response = views.document_add_file(request)
    assert response.status_code == 413
    assert "This file is too large." in response.content.decode()
    assert request._read_started is False  # the body was never read
    with tenant(owner.id):
        assert not RagDocument.objects.exists() and not StorageFile.objects.exists()


def test_an_oversized_upload_through_the_client_is_refused_too(owner_client, owner, settings):
    settings.RAG_MAX_UPLOAD_BYTES = 1000
    response = upload(owner_client, "big.txt", b"a" * 40_000)
    assert response.status_code == 413 and "This file is too large." in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists() and not StorageFile.objects.exists()


def test_uploads_still_need_the_csrf_token(owner, django_capture_on_commit_callbacks):
    from testutils.testing import client_for

    client = client_for(owner)
    client.handler.enforce_csrf_checks = True
    refused = upload(client, "notes.txt", b"Some notes.")
    assert refused.status_code == 403
    with tenant(owner.id):
        assert not RagDocument.objects.exists()
    token = client.get(reverse("rag:add")).cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        accepted = upload(client, "notes.txt", b"Some notes.", csrfmiddlewaretoken=token)
    assert accepted.status_code == 302
    assert only_document(owner).status == Status.INDEXED


def test_get_on_the_add_endpoints_is_not_allowed(owner_client):
    for name in ("rag:add_file", "rag:add_text", "rag:add_url"):
        assert owner_client.get(reverse(name)).status_code == 405


# --- pasted text and web pages ------------------------------------------------------------------------


def test_pasted_text_is_indexed_and_shown_in_passages(owner_client, owner, django_capture_on_commit_callbacks):
    add_text(owner_client, django_capture_on_commit_callbacks, tags="garden")
    document = only_document(owner)
    assert document.status == Status.INDEXED and document.source == Source.PASTE and document.chunk_count > 1
    html = page_text(owner_client.get(reverse("rag:document", args=[document.id])))
    assert "Water the tomatoes every morning" in html
    assert "Garden guide › Watering" in html and "Garden guide › Pruning" in html
    positions = [int(p) for p in re.findall(r'id="chunk-(\d+)"', html)]
    assert positions == list(range(document.chunk_count))
    assert "static, 256 dimensions" in html


@pytest.mark.parametrize("fields, message", [
    ({"title": "Notes", "text": "   "}, "Paste some text first."),
    ({"title": "", "text": "Some text"}, "Give the document a title."),
    ({"title": "Long", "text": "x" * 200_001}, "This text is too long (200001 characters; the limit is 200000)."),
])
def test_bad_text_is_refused(owner_client, owner, fields, message):
    response = owner_client.post(reverse("rag:add_text"), fields)
    assert response.status_code == 400 and message in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists()


# Private and loopback addresses are refused at the form: rag/tests/test_indexing_limits.py; the
# worker still refuses them at fetch time: rag/tests/test_indexing.py.


@pytest.mark.parametrize("url", ["ftp://example.com/file.txt", "javascript:alert(1)", "example.com", ""])
def test_a_url_that_is_not_http_is_refused(owner_client, owner, url):
    response = owner_client.post(reverse("rag:add_url"), {"url": url})
    assert response.status_code == 400
    assert "Enter a web address" in page_text(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists()


# --- list, progress and status ---------------------------------------------------------------------------


def test_the_empty_list_explains_what_documents_are_for(owner_client):
    html = page_text(owner_client.get(reverse("rag:list")))
    assert "No documents yet" in html and "cite" in html and reverse("rag:add") in html


def test_the_list_shows_each_state(owner_client, owner):
    make_document(owner, title="Waiting", status=Status.QUEUED)
    make_document(owner, title="Working", status=Status.INDEXING, progress=40)
    make_document(owner, title="Done", status=Status.INDEXED, progress=100, chunk_count=7, size_bytes=2048)
    make_document(owner, title="Broken", status=Status.FAILED, error_message="This PDF file is damaged or incomplete.")
    response = owner_client.get(reverse("rag:list"))
    html = page_text(response)
    assert "Queued" in html and "Indexing… 40%" in html and 'value="40"' in html
    assert "Indexed · 7 passages" in html and "2.0\xa0KB" in html
    assert "Failed: This PDF file is damaged or incomplete." in html
    # Pending documents: the page polls (documents.js) and offers a Refresh link without JavaScript.
    assert 'aria-live="polite"' in html and "js/documents.js" in html and "data-refresh-link" in html
    assert f'data-status-url="{reverse("rag:status")}"' in html and 'id="documents-labels"' in html
    assert 'data-confirm="Delete “Done” and its passages? This cannot be undone."' in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_list_rows_state_is_the_document_pages_state(owner_client, owner, language):
    """The list's rows are made in Python (rag/rows.py), the document page includes rag/_state.html:
    the same markup for every state, so documents.js updates both alike."""
    from django.template.loader import render_to_string
    from django.utils import translation

    documents = [
        make_document(owner, title="Waiting", status=Status.QUEUED),
        make_document(owner, title="Working", status=Status.INDEXING, progress=40),
        make_document(owner, title="One", status=Status.INDEXED, chunk_count=1),
        make_document(owner, title="Many", status=Status.INDEXED, chunk_count=1200),
        make_document(owner, title="Broken", status=Status.FAILED, error_message='Bad <b>"PDF"</b> & more'),
        make_document(owner, title="Silent", status=Status.FAILED),
    ]
    html = page_text(owner_client.get(reverse("rag:list"), HTTP_ACCEPT_LANGUAGE=language))
    with translation.override(language):
        for document in documents:
            assert render_to_string("rag/_state.html", {"document": document}) in html, document.title
    assert "&lt;b&gt;&quot;PDF&quot;&lt;/b&gt; &amp; more" in html and "<b>" not in html


def test_the_list_rows_show_what_each_document_holds(owner_client, owner):
    from django.utils import timezone
    from django.utils.formats import date_format

    document = make_document(owner, title="Soil & seeds", source=Source.URL, collection="Garden", tags=["spring", "<b>"],
                             status=Status.INDEXED, chunk_count=2)
    plain = make_document(owner, title="Plain", status=Status.QUEUED)
    response = owner_client.get(reverse("rag:list"), {"q": "", "page": "1"})
    html = page_text(response)
    row = html[html.index(f'data-document-id="{document.id}"'):]
    row = row[:row.index("</tr>")]
    assert f'<a href="{reverse("rag:document", args=[document.id])}">Soil &amp; seeds</a>' in row
    assert ">Web page<" in row and ">Garden<" in row
    assert '<ul class="doc-tags"><li class="badge">spring</li><li class="badge">&lt;b&gt;</li></ul>' in row
    created = timezone.localtime(document.created_at)
    assert f'<time datetime="{created.isoformat()}">{date_format(created, "SHORT_DATE_FORMAT")}</time>' in row
    assert f'action="{reverse("rag:reindex", args=[document.id])}"' in row
    assert f'action="{reverse("rag:delete", args=[document.id])}"' in row
    assert row.count('name="csrfmiddlewaretoken"') == 2 and row.count('name="next" value="/documents/?q=&amp;page=1"') == 2
    plain_row = html[html.index(f'data-document-id="{plain.id}"'):]
    plain_row = plain_row[:plain_row.index("</tr>")]
    assert plain_row.count(">—<") == 3  # no collection, no tags, no size
    # A row's forms work: re-indexing the first goes back to the same list.
    response = owner_client.post(reverse("rag:reindex", args=[plain.id]), {"next": "/documents/?q=&page=1"})
    assert response.status_code == 302 and response["Location"] == "/documents/?q=&page=1"


def test_no_polling_when_nothing_is_pending(owner_client, owner):
    make_document(owner, title="Done", status=Status.INDEXED, chunk_count=1)
    html = page_text(owner_client.get(reverse("rag:list")))
    assert "data-refresh-link" not in html


def test_filter_by_collection_and_search_titles(owner_client, owner):
    make_document(owner, title="Tax return 2023", collection="Finance")
    make_document(owner, title="Tax notes", collection="Home")
    make_document(owner, title="Recipes", collection="Home")
    html = page_text(owner_client.get(reverse("rag:list"), {"collection": "Home"}))
    assert "Tax notes" in html and "Recipes" in html and "Tax return 2023" not in html
    html = page_text(owner_client.get(reverse("rag:list"), {"q": "tax"}))
    assert "Tax notes" in html and "Tax return 2023" in html and "Recipes" not in html
    html = page_text(owner_client.get(reverse("rag:list"), {"q": "tax", "collection": "Home"}))
    assert "Tax notes" in html and "Tax return 2023" not in html and "Recipes" not in html
    html = page_text(owner_client.get(reverse("rag:list"), {"q": "nothing like this"}))
    assert "No documents match" in html


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("rag:list"), params)
    assert response.status_code == 200
    return len(captured)


def test_the_list_runs_the_same_queries_with_3_and_60_documents(owner_client, owner):
    def fill(count, start):
        with tenant(owner.id):
            RagDocument.objects.bulk_create([
                RagDocument(user=owner, title=f"Doc {start + i}", source=Source.PASTE, collection=f"c{i % 4}",
                            tags=["a", "b"], status=[Status.QUEUED, Status.INDEXED, Status.FAILED][i % 3])
                for i in range(count)
            ])

    fill(3, 0)
    few = _list_queries(owner_client)
    few_filtered = _list_queries(owner_client, q="doc", collection="c1")
    fill(57, 3)
    assert _list_queries(owner_client) == few
    assert _list_queries(owner_client, q="doc", collection="c1") == few_filtered
    assert _list_queries(owner_client, page=3) == few
    html = page_text(owner_client.get(reverse("rag:list"), {"page": 2}))
    assert "Page 2 of 3" in html and html.count("data-document-id=") == 25


def test_the_status_endpoint_lists_only_the_users_documents(owner_client, owner, other):
    mine = make_document(owner, title="Mine", status=Status.INDEXING, progress=55)
    done = make_document(owner, title="Done", status=Status.FAILED, error_message="No text was found.")
    theirs = make_document(other, title="Theirs", status=Status.INDEXING)
    response = owner_client.get(reverse("rag:status"), {"ids": f"{mine.id},{done.id},{theirs.id},not-a-uuid"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    items = {item["id"]: item for item in response.json()}
    assert set(items) == {str(mine.id), str(done.id)}
    assert items[str(mine.id)] == {"id": str(mine.id), "status": "INDEXING", "progress": 55, "chunk_count": 0, "error": ""}
    assert items[str(done.id)]["error"] == "No text was found."
    assert owner_client.get(reverse("rag:status"), {"ids": str(theirs.id)}).json() == []
    assert owner_client.get(reverse("rag:status")).json() == []


# --- one document -----------------------------------------------------------------------------------------


def test_reindexing_twice_gives_the_same_chunks(owner_client, owner, django_capture_on_commit_callbacks):
    add_text(owner_client, django_capture_on_commit_callbacks)
    document = only_document(owner)

    def chunks():
        with tenant(owner.id):
            return list(RagChunk.objects.filter(document=document).order_by("position").values_list("id", "content"))

    first, first_vectors = chunks(), vectors_of(owner, document.id)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_client.post(reverse("rag:reindex", args=[document.id]))
        assert response.status_code == 302 and response.url == reverse("rag:document", args=[document.id])
        assert chunks() == first and vectors_of(owner, document.id) == first_vectors
    assert only_document(owner).status == Status.INDEXED
    # From the list, the re-index goes back to the same list page.
    listing = reverse("rag:list") + "?q=garden"
    response = owner_client.post(reverse("rag:reindex", args=[document.id]), {"next": listing})
    assert response.url == listing
    response = owner_client.post(reverse("rag:reindex", args=[document.id]), {"next": "https://evil.example/"})
    assert response.url == reverse("rag:document", args=[document.id])


def test_delete_removes_the_document_its_chunks_vectors_and_file(owner_client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(owner_client, "notes.md", LONG_TEXT.encode())
    document = only_document(owner)
    assert document.chunk_count > 1 and vectors_of(owner, document.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("rag:delete", args=[document.id]))
    assert response.status_code == 302 and response.url == reverse("rag:list")
    with tenant(owner.id):
        assert not RagDocument.objects.filter(pk=document.id).exists()
        assert not RagChunk.objects.filter(document_id=document.id).exists()
        assert not StorageFile.objects.exists()
    assert vectors_of(owner, document.id) == []
    assert "was deleted" in page_text(owner_client.get(response.url))


def test_edit_changes_details_and_reindexes_for_new_filters(owner_client, owner, django_capture_on_commit_callbacks):
    add_text(owner_client, django_capture_on_commit_callbacks, collection="Garden")
    document = only_document(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("rag:edit", args=[document.id]),
                                     {"title": "Vegetable guide", "tags": "Plants, summer", "collection": "Allotment"})
    assert response.status_code == 302
    document = only_document(owner)
    assert (document.title, document.tags, document.collection) == ("Vegetable guide", ["plants", "summer"], "Allotment")
    assert document.status == Status.INDEXED
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT collection, tags FROM rag_vectors WHERE document_id = %s", [document.id])
        assert cursor.fetchall() == [("Allotment", ["plants", "summer"])]
    html = page_text(owner_client.get(reverse("rag:document", args=[document.id])))
    assert "indexed again" in html and "Vegetable guide" in html

    # Only the title changing needs no re-index.
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("rag:edit", args=[document.id]),
                          {"title": "Veg guide", "tags": "plants, summer", "collection": "Allotment"})
    assert callbacks == [] and only_document(owner).title == "Veg guide"


def test_edit_with_bad_input_changes_nothing(owner_client, owner):
    document = make_document(owner, title="Keep me", tags=["one"], collection="Home")
    response = owner_client.post(reverse("rag:edit", args=[document.id]),
                                 {"title": "", "tags": ",".join(str(i) for i in range(30)), "collection": "Home"})
    assert response.status_code == 400
    html = page_text(response)
    assert "Give the document a title." in html and "at most 20 tags" in html and "<details class=\"document-edit\" open>" in html
    document = only_document(owner)
    assert (document.title, document.tags) == ("Keep me", ["one"])


def test_html_in_titles_tags_and_text_is_inert(owner_client, owner, django_capture_on_commit_callbacks):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    add_text(owner_client, django_capture_on_commit_callbacks, title=payload, text=f"# Heading {payload}\n\nBody {payload}\nline two",
             tags="<b>bold</b>", collection="<i>col</i>")
    document = only_document(owner)
    assert document.status == Status.INDEXED
    for url in (reverse("rag:list"), reverse("rag:document", args=[document.id])):
        html = page_text(owner_client.get(url))
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert "<i>col</i>" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    detail = page_text(owner_client.get(reverse("rag:document", args=[document.id])))
    assert "Body &lt;script&gt;" in detail and "line two" in detail


# --- access --------------------------------------------------------------------------------------------------


def test_outsiders_get_404_on_every_document_url(owner, other_client, django_capture_on_commit_callbacks):
    document = make_document(owner, title="Private", status=Status.INDEXED)
    assert other_client.get(reverse("rag:document", args=[document.id])).status_code == 404
    for name, data in (("rag:reindex", {}), ("rag:delete", {}), ("rag:edit", {"title": "Mine now"})):
        with django_capture_on_commit_callbacks() as callbacks:
            assert other_client.post(reverse(name, args=[document.id]), data).status_code == 404
        assert callbacks == []
    assert other_client.get(reverse("rag:status"), {"ids": str(document.id)}).json() == []
    assert "Private" not in page_text(other_client.get(reverse("rag:list")))
    document = only_document(owner)
    assert document.title == "Private" and document.status == Status.INDEXED


def test_anonymous_visitors_are_sent_to_sign_in(owner):
    document = make_document(owner)
    client = Client()
    gets = ["rag:list", "rag:add", "rag:status", "rag:settings"]
    posts = ["rag:add_file", "rag:add_text", "rag:add_url"]
    for name in gets:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login" in response.url
    for name in posts:
        response = client.post(reverse(name), {"title": "x", "text": "y", "url": "https://example.com/"})
        assert response.status_code == 302 and "/login" in response.url
    response = client.get(reverse("rag:document", args=[document.id]))
    assert response.status_code == 302 and "/login" in response.url
    for name in ("rag:reindex", "rag:delete", "rag:edit"):
        response = client.post(reverse(name, args=[document.id]), {"title": "x"})
        assert response.status_code == 302 and "/login" in response.url
    with tenant(owner.id):
        assert RagDocument.objects.count() == 1


def test_every_post_form_on_the_pages_has_a_csrf_token(owner_client, owner):
    document = make_document(owner, title="Doc", status=Status.QUEUED)
    for url in (reverse("rag:list"), reverse("rag:add"), reverse("rag:settings"), reverse("rag:document", args=[document.id])):
        html = page_text(owner_client.get(url))
        assert html.count('method="post"') == html.count("csrfmiddlewaretoken") > 2, url
        assert "<script>" not in html and " style=" not in html, url  # CSP: no inline scripts or styles
