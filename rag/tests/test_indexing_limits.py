"""Hardened indexing, through the pages as a user hits them: bombs stop at their cap with a clear
reason and leave nothing half-indexed; inputs that used to leave documents "Indexing 5 %" forever
(NUL bytes, ``charset=undefined``, unexpected errors) end failed or indexed; the stuck-document
sweep; per-plan limits; the re-index rate limit; query parameters and file names that used to 500;
and URL documents vetted at the form."""

from __future__ import annotations

import html as html_lib
import io
import logging
import random
import struct
import time
import zipfile
from datetime import timedelta

import docx
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PageObject, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from core.tenancy import tenant
from rag.extract import extract_from_url_response
from rag.models import RagChunk, RagDocument, Source, Status
from storage.models import StorageFile

pytestmark = pytest.mark.django_db

BOUND_SECONDS = 60  # generous: each bomb below would take far longer (or far more memory) unchecked


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- builders --------------------------------------------------------------------------------------------


def docx_with_body(paragraphs_xml: str, *, extra_members: dict[str, bytes] | None = None) -> bytes:
    """A real .docx (python-docx's template) whose word/document.xml body is ``paragraphs_xml``."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                head, _, rest = data.decode().partition("<w:body>")
                _, section, tail = rest.partition("<w:sectPr")
                data = (head + "<w:body>" + paragraphs_xml + section + tail).encode()
            target.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name, data in (extra_members or {}).items():
            target.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def paragraphs(count: int, text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" * count


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """The zip with ``member``'s uncompressed size rewritten to ``declared`` in both of its headers."""
    raw = bytearray(data)
    name = member.encode()
    position = 0
    while (position := raw.find(b"PK\x01\x02", position)) != -1:  # central directory entries
        length = struct.unpack_from("<H", raw, position + 28)[0]
        if bytes(raw[position + 46:position + 46 + length]) == name:
            struct.pack_into("<I", raw, position + 24, declared)
            local = struct.unpack_from("<I", raw, position + 42)[0]
            struct.pack_into("<I", raw, local + 22, declared)
        position += 4
    return bytes(raw)


def pdf_sharing_one_stream(pages: int, line: str, lines_per_page: int = 40) -> bytes:
    """``pages`` pages whose /Contents all point at one content stream (a tiny file, much work)."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    stream = DecodedStreamObject()
    operations = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"] + [f"({line}) Tj T*"] * lines_per_page + ["ET"]
    stream.set_data("\n".join(operations).encode("latin-1"))
    shared = writer._add_object(stream.flate_encode())
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = shared
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- helpers ---------------------------------------------------------------------------------------------


def text_of(response) -> str:
    """The page as the user reads it (entities such as &#x27; decoded)."""
    return html_lib.unescape(response.content.decode())


def upload(client, name: str, data: bytes, captured, **fields):
    with captured(execute=True):
        response = client.post(reverse("rag:add_file"), {"file": SimpleUploadedFile(name, data), **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def only_document(user) -> RagDocument:
    with tenant(user.id):
        return RagDocument.objects.select_related("storage_file").get(user=user)


def assert_failed_with_nothing_left(client, user, document: RagDocument, reason: str) -> None:
    assert document.status == Status.FAILED, (document.status, document.error_message)
    assert reason in document.error_message
    assert document.chunk_count == 0 and document.vector_ids == [] and not document.indexed
    with tenant(user.id), connection.cursor() as cursor:
        assert not RagChunk.objects.filter(document_id=document.id).exists()
        cursor.execute("SELECT count(*) FROM rag_vectors WHERE document_id = %s", [document.id])
        assert cursor.fetchone()[0] == 0
    listing = text_of(client.get(reverse("rag:list")))
    assert "Failed: " in listing and reason in listing  # what the user sees on the documents page


@pytest.fixture
def spy(monkeypatch):
    """Counts calls of a third-party function (it still runs)."""

    def install(owner, name):
        calls = []
        original = getattr(owner, name)

        def counting(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)
        return calls

    return install


# --- item 4: bombs -----------------------------------------------------------------------------------------


def test_a_docx_whose_text_inflates_enormously_is_refused_before_parsing(owner_client, owner,
                                                                         django_capture_on_commit_callbacks, spy):
    bomb = docx_with_body(paragraphs(400_000, "a" * 50))  # 20 M characters of text, ~40 MB of XML
    assert len(bomb) < 200_000
    parsed = spy(docx, "Document")
    started = time.monotonic()
    upload(owner_client, "bomb.docx", bomb, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < BOUND_SECONDS
    document = only_document(owner)
    assert_failed_with_nothing_left(owner_client, owner, document, "compressed far more than documents are")
    assert parsed == []  # python-docx never saw it


def test_a_docx_stops_at_the_character_cap_while_it_is_read(owner_client, owner, settings,
                                                            django_capture_on_commit_callbacks):
    settings.RAG_MAX_COMPRESSION_RATIO = 100_000  # let the ratio pass: the character cap must hold alone
    settings.RAG_MAX_DOCUMENT_CHARS = 100_000
    upload(owner_client, "long.docx", docx_with_body(paragraphs(40_000, "b" * 50)), django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "more than 100,000 characters of text")


def test_a_zip_member_declared_larger_than_the_cap_is_refused_unread(owner_client, owner, settings,
                                                                     django_capture_on_commit_callbacks, spy):
    settings.RAG_MAX_UNPACKED_BYTES = 200_000
    picture = random.Random(1).randbytes(300_000)  # incompressible: the ratio is fine, the size is not
    photo = docx_with_body(paragraphs(1, "Hi"), extra_members={"word/media/p.bin": picture})
    parsed = spy(docx, "Document")
    upload(owner_client, "photo.docx", photo, django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "unpacks to more than 195.3")
    assert parsed == []


def test_a_zip_member_holding_more_than_it_declares_is_not_unpacked_past_its_claim(
        owner_client, owner, django_capture_on_commit_callbacks, spy):
    honest = docx_with_body(paragraphs(100_000, "c" * 50))  # ~7 MB of XML
    liar = lie_about_size(honest, "word/document.xml", 1000)
    parsed = spy(docx, "Document")
    started = time.monotonic()
    upload(owner_client, "liar.docx", liar, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < BOUND_SECONDS
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "damaged")
    assert parsed == []


def test_a_pdf_whose_pages_share_one_stream_stops_at_the_character_cap(owner_client, owner, settings,
                                                                       django_capture_on_commit_callbacks, spy):
    settings.RAG_MAX_DOCUMENT_CHARS = 50_000
    bomb = pdf_sharing_one_stream(1000, "The same line of text, drawn again and again on every page.")
    assert len(bomb) < 200_000
    pages_read = spy(PageObject, "extract_text")
    upload(owner_client, "bomb.pdf", bomb, django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "more than 50,000 characters of text")
    assert 0 < len(pages_read) < 100  # stopped at the cap (~21 pages), not after reading 1,000


def test_a_pdf_whose_pages_share_one_stream_stops_at_the_unpacked_cap(owner_client, owner, settings,
                                                                      django_capture_on_commit_callbacks, spy):
    settings.RAG_MAX_UNPACKED_BYTES = 200_000  # ~2.6 KB of operators per page, counted per page
    pages_read = spy(PageObject, "extract_text")
    upload(owner_client, "bomb.pdf", pdf_sharing_one_stream(1000, "Another line drawn on every page."),
           django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "unpacks to more than")
    assert len(pages_read) < 200


def test_a_pdf_with_too_many_pages_is_refused_before_any_is_read(owner_client, owner, settings,
                                                                 django_capture_on_commit_callbacks, spy):
    settings.RAG_MAX_PDF_PAGES = 100
    pages_read = spy(PageObject, "extract_text")
    upload(owner_client, "pages.pdf", pdf_sharing_one_stream(300, "Short."), django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "This PDF has 300 pages; at most 100")
    assert pages_read == []


def test_extraction_has_a_time_budget(owner_client, owner, settings, django_capture_on_commit_callbacks, spy):
    settings.RAG_EXTRACTION_TIME_LIMIT = 0.0  # spent before the first page
    pages_read = spy(PageObject, "extract_text")
    upload(owner_client, "slow.pdf", pdf_sharing_one_stream(50, "Any text."), django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "took longer than 0 seconds")
    assert pages_read == []


def test_a_huge_plain_text_stops_at_the_character_cap(owner_client, owner, settings, django_capture_on_commit_callbacks):
    settings.RAG_MAX_DOCUMENT_CHARS = 100_000
    upload(owner_client, "huge.txt", b"word " * 30_000, django_capture_on_commit_callbacks)
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "more than 100,000 characters")


def test_a_csv_whose_column_names_multiply_stops_at_the_character_cap(owner_client, owner, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.RAG_MAX_DOCUMENT_CHARS = 100_000
    # Each one-letter value is written with its 5,000-character column name: 100 KB in, 500 MB out.
    data = ("n" * 5000 + "\n").encode() + b"x\n" * 100_000
    started = time.monotonic()
    upload(owner_client, "wide.csv", data, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < BOUND_SECONDS
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "more than 100,000 characters")


def test_the_indexing_task_has_soft_and_hard_time_limits():
    from rag.tasks import index_document_task

    assert index_document_task.soft_time_limit == django_settings.RAG_INDEX_SOFT_TIME_LIMIT
    assert index_document_task.time_limit == django_settings.RAG_INDEX_TIME_LIMIT
    assert index_document_task.soft_time_limit < index_document_task.time_limit


# --- per-plan limits ------------------------------------------------------------------------------------


@pytest.fixture
def small_plan(settings):
    settings.RAG_TIER_LIMITS = {**settings.RAG_TIER_LIMITS, "FREE": {"characters": 3000, "chunks": 50}}


def paste(client, captured, title: str, text: str, execute: bool = True):
    with captured(execute=execute):
        return client.post(reverse("rag:add_text"), {"title": title, "text": text})


def test_indexed_text_counts_against_the_plan_and_a_document_going_over_fails(owner_client, owner, small_plan,
                                                                            django_capture_on_commit_callbacks):
    assert paste(owner_client, django_capture_on_commit_callbacks, "First", "Garden notes. " * 150).status_code == 302
    upload(owner_client, "more.txt", b"Kitchen notes. " * 100, django_capture_on_commit_callbacks)
    with tenant(owner.id):
        first = RagDocument.objects.get(title="First")
        second = RagDocument.objects.get(source=Source.FILE)
    assert first.status == Status.INDEXED
    assert_failed_with_nothing_left(owner_client, owner, second, "past your plan's limit of 3,000 characters")
    assert "(901 left)" in second.error_message  # 3,000 - 2,099 (the pasted text, stripped)
    assert second.content == ""  # nothing of it was stored


def test_a_document_with_more_passages_than_the_plan_allows_fails_before_embedding(
        owner_client, owner, settings, django_capture_on_commit_callbacks):
    settings.RAG_TIER_LIMITS = {**settings.RAG_TIER_LIMITS, "FREE": {"characters": 1_000_000, "chunks": 3}}
    text = "\n\n".join(f"## Part {i}\n\n" + f"Paragraph {i} about the garden and its beds. " * 25 for i in range(8))
    assert paste(owner_client, django_capture_on_commit_callbacks, "Long", text).status_code == 302
    assert_failed_with_nothing_left(owner_client, owner, only_document(owner), "past your plan's limit of 3 passages")


def test_the_forms_refuse_new_documents_when_the_plan_is_full(owner_client, owner, small_plan,
                                                              django_capture_on_commit_callbacks):
    assert paste(owner_client, django_capture_on_commit_callbacks, "Full", "x" * 3000).status_code == 302
    full = "Your documents already hold 3,000 characters of text, all your plan allows."
    response = paste(owner_client, django_capture_on_commit_callbacks, "More", "Another note.")
    assert response.status_code == 400 and full in text_of(response)
    response = owner_client.post(reverse("rag:add_file"), {"file": SimpleUploadedFile("n.txt", b"Some notes.")})
    assert response.status_code == 400 and full in text_of(response)
    response = owner_client.post(reverse("rag:add_url"), {"url": "http://93.184.216.34/page"})
    assert response.status_code == 400 and full in text_of(response)
    with tenant(owner.id):
        assert RagDocument.objects.count() == 1 and not StorageFile.objects.exists()


def test_pasted_text_that_would_go_over_the_plan_is_refused_at_the_form(owner_client, owner, small_plan,
                                                                        django_capture_on_commit_callbacks):
    response = paste(owner_client, django_capture_on_commit_callbacks, "Big", "y" * 3001)
    assert response.status_code == 400
    assert "This text would take your documents past your plan's limit of 3,000 characters" in text_of(response)
    with tenant(owner.id):
        assert not RagDocument.objects.exists()


def test_a_bigger_plan_has_more_room(settings):
    from rag.limits import tier_limits

    assert tier_limits("PRO")["characters"] > tier_limits("FREE")["characters"]
    assert tier_limits("unknown") == tier_limits("FREE")
    assert set(settings.TIER_LIMITS["FREE"]) == {"messages", "tokens"}  # metering's limits untouched


# --- re-index rate limit ------------------------------------------------------------------------------------


def test_reindexing_is_rate_limited_and_a_refusal_changes_nothing(owner_client, owner, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.RAG_REINDEX_MAX_PER_HOUR = 2
    assert paste(owner_client, django_capture_on_commit_callbacks, "Notes", "Some garden notes.").status_code == 302
    document = only_document(owner)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert owner_client.post(reverse("rag:reindex", args=[document.id])).status_code == 302
    before = only_document(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("rag:reindex", args=[document.id]), follow=True)
    assert callbacks == []
    html = response.content.decode()
    assert "You have asked for 2 re-indexes in the last hour, the most allowed. Try again later." in html
    assert html.count("is being indexed again") == 2  # the two accepted requests' messages only
    after = only_document(owner)
    assert (after.status, after.updated_at, after.chunk_count) == (before.status, before.updated_at, before.chunk_count)


# --- item 7: documents that used to stay "Indexing 5 %" -----------------------------------------------------


def test_a_nul_byte_in_pdf_text_is_stripped_and_the_document_indexed(owner_client, owner,
                                                                    django_capture_on_commit_callbacks):
    writer_pdf = pdf_sharing_one_stream(1, "Budget\\000 approved\\001 for the new roof.", lines_per_page=1)
    upload(owner_client, "nul.pdf", writer_pdf, django_capture_on_commit_callbacks)
    document = only_document(owner)
    assert document.status == Status.INDEXED, document.error_message
    assert "\x00" not in document.content and "\x01" not in document.content and "new roof" in document.content


def test_a_charset_undefined_declaration_falls_back_and_indexes(owner_client, owner, django_capture_on_commit_callbacks):
    page = b'<html><head><meta charset="undefined"><title>Ferry</title></head><body><p>The ferry leaves at noon.</p></body></html>'
    upload(owner_client, "ferry.html", page, django_capture_on_commit_callbacks)
    document = only_document(owner)
    assert document.status == Status.INDEXED, document.error_message
    assert "The ferry leaves at noon." in document.content


@pytest.mark.parametrize("content_type", ["text/html; charset=undefined", "text/html; charset=zlib",
                                          "text/plain; charset=no-such-codec"])
def test_fetched_pages_with_bad_charsets_or_control_characters_give_clean_text(content_type):
    body = b"<html><body><p>Opening hours&#0; nine&#1; to five\x01.</p></body></html>"
    result = extract_from_url_response(body, content_type, "https://example.com/hours.html")
    assert "nine" in result.text and "five" in result.text
    assert not any(ord(c) < 32 and c not in "\n\t" for c in result.text)


def test_an_unexpected_error_fails_the_document_with_a_generic_reason_and_logs_it(
        owner_client, owner, monkeypatch, caplog, django_capture_on_commit_callbacks):
    def broken_open(self, name, mode="rb"):
        raise RuntimeError("storage backend exploded")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owner_client.post(reverse("rag:add_file"), {"file": SimpleUploadedFile("notes.txt", b"Some notes.")})
    monkeypatch.setattr(FileSystemStorage, "open", broken_open)  # a storage backend failing in a new way
    with caplog.at_level(logging.ERROR, logger="rag.indexing"):
        for callback in callbacks:
            callback()
    document = only_document(owner)
    assert_failed_with_nothing_left(owner_client, owner, document, "could not be indexed because of an unexpected error")
    assert "storage backend exploded" in caplog.text and "Traceback" in caplog.text


def test_the_sweep_fails_documents_stuck_in_indexing_and_leaves_live_ones(owner_client, owner, other,
                                                                          django_capture_on_commit_callbacks):
    from rag.tasks import fail_stuck_documents_task

    assert paste(owner_client, django_capture_on_commit_callbacks, "Indexed once", "Notes about the boiler. " * 60).status_code == 302
    stuck = only_document(owner)
    assert stuck.chunk_count > 0
    long_ago = timezone.now() - timedelta(seconds=django_settings.RAG_INDEX_TIME_LIMIT + 3600)
    with tenant(owner.id):
        RagDocument.objects.filter(pk=stuck.pk).update(status=Status.INDEXING, progress=15, updated_at=long_ago)
    with tenant(other.id):
        live = RagDocument.objects.create(user=other, title="Working", source=Source.PASTE, content="Text.",
                                          status=Status.INDEXING, progress=40)
    assert fail_stuck_documents_task.apply().get() == 1
    stuck = only_document(owner)
    assert_failed_with_nothing_left(owner_client, owner, stuck, "Indexing stopped unexpectedly")
    with tenant(other.id):
        live.refresh_from_db()
    assert live.status == Status.INDEXING and live.progress == 40
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "rag.fail_stuck_documents" in schedule


# --- item 8: user input that used to 500 ----------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {"q": "tax\x00"}, {"collection": "Home\x00"}, {"q": "\x00", "collection": "\x00\x01", "page": "\x00"},
    {"page": "99999999999999999999"}, {"page": "-3"},
])
def test_the_list_survives_control_characters_and_garbage_in_its_parameters(owner_client, owner, params):
    with tenant(owner.id):
        RagDocument.objects.create(user=owner, title="Tax notes", source=Source.PASTE, collection="Home")
    response = owner_client.get(reverse("rag:list"), params)
    assert response.status_code == 200
    if params.get("q") == "tax\x00" or params.get("collection") == "Home\x00":
        assert "Tax notes" in response.content.decode()  # the NUL is dropped, the filter still applies


@pytest.mark.parametrize("ids", ["\x00", "not-a-uuid,\x00,%%%,{}", "a" * 100_000, ",".join(["x"] * 5000),
                                 "urn:uuid:" + "f" * 32, "١" * 32, "0_" * 16])
def test_the_status_endpoint_ignores_garbage_ids(owner_client, owner, ids):
    with tenant(owner.id):
        mine = RagDocument.objects.create(user=owner, title="Mine", source=Source.PASTE, status=Status.INDEXING)
    response = owner_client.get(reverse("rag:status"), {"ids": [ids, str(mine.id)]})
    assert response.status_code == 200
    assert all(item["id"] == str(mine.id) for item in response.json())


def test_a_file_name_longer_than_255_bytes_is_stored_cut_and_the_path_uses_ids(owner_client, owner,
                                                                               django_capture_on_commit_callbacks):
    name = "é" * 150 + ".txt"  # 150 characters, 304 bytes
    upload(owner_client, name, b"Notes about the accented file.", django_capture_on_commit_callbacks)
    document = only_document(owner)
    assert document.status == Status.INDEXED, document.error_message
    stored = document.storage_file
    assert stored.original_name.endswith(".txt") and stored.original_name.startswith("éé")
    assert len(stored.original_name.encode()) <= 255 and len(stored.filename.encode()) <= 255
    assert "é" not in stored.storage_path and str(stored.id) in stored.storage_path
    detail = owner_client.get(reverse("rag:document", args=[document.id])).content.decode()
    assert stored.original_name in detail


# --- item 13: URL documents vetted at the form ----------------------------------------------------------------


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/admin/secrets", "This address points to this server itself and cannot be fetched."),
    ("http://localhost:8000/", "This address points to an internal service and cannot be fetched."),
    ("http://10.0.0.5/intranet", "This address points to a private network and cannot be fetched."),
    ("http://[::ffff:192.168.0.1]/", "This address points to a private network and cannot be fetched."),
    ("http://169.254.169.254/latest/meta-data/", "This address points to a cloud metadata service and cannot be fetched."),
    ("http://nowhere.invalid/page", "The address nowhere.invalid could not be found."),
])
def test_the_url_form_refuses_what_fetching_would_refuse(owner_client, owner, url, reason):
    response = owner_client.post(reverse("rag:add_url"), {"url": url})
    assert response.status_code == 400
    html = response.content.decode()
    assert reason in html and "The document was not added." in html
    with tenant(owner.id):
        assert not RagDocument.objects.exists()


def test_the_url_form_accepts_a_public_address(owner_client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(reverse("rag:add_url"), {"url": "http://93.184.216.34/guide"})
    assert response.status_code == 302 and len(callbacks) == 1  # queued (not run: no internet in tests)
    assert only_document(owner).source_url == "http://93.184.216.34/guide"
