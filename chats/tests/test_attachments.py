"""Files attached to a conversation from its composer (issue 07 item 9): rag's upload path (type and
size refused before reading the file whole, the quota, indexing on commit), the link table's
row-level security and trigger, the chips' state, removal, and every new URL a 404 for others."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse

from chats import attachments
from chats.models import Conversation, ConversationDocument
from core.tenancy import tenant
from rag.models import RagChunk, RagDocument, Status
from storage.models import StorageFile, StorageQuota
from testutils import factories
from testutils.testing import client_for, make_user, messages_of

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
NOTES = b"# Trip notes\n\nThe ferry to the island leaves at 7:40 from pier 3."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _add_url(conversation):
    return reverse("chats:attachment_create", args=[conversation.id])


def _upload(client, conversation, name="notes.md", data=NOTES, **extra):
    return client.post(_add_url(conversation), {"file": SimpleUploadedFile(name, data)}, **extra)


def _stored(user):
    with tenant(user.id):
        return (RagDocument.objects.count(), StorageFile.objects.count(), ConversationDocument.objects.count())


def test_an_attached_file_is_indexed_linked_and_shown_as_a_chip(owner_client, owner, conversation,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_client, conversation, **JSON)
    assert response.status_code == 201
    body = response.json()
    assert body["added"]["title"] == "notes" and body["added"]["status"] == Status.QUEUED
    with tenant(owner.id):
        link = ConversationDocument.objects.select_related("document").get()
        assert link.conversation_id == conversation.id and link.user_id == owner.id
        assert link.document.status == Status.INDEXED and link.document.collection == ""
        assert RagChunk.objects.filter(document=link.document).exists()
    listed = owner_client.get(reverse("chats:attachments", args=[conversation.id])).json()["attachments"]
    assert [(a["id"], a["status"]) for a in listed] == [(str(link.id), Status.INDEXED)]
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert f'data-attachment-id="{link.id}"' in page and "Ready" in page
    assert reverse("chats:attachment_delete", args=[conversation.id, link.id]) in page
    # The Documents page lists it, saying which conversation it belongs to.
    documents = owner_client.get(reverse("rag:list")).content.decode()
    assert "Attached to" in documents and reverse("chats:detail", args=[conversation.id]) in documents
    detail = owner_client.get(reverse("rag:document", args=[link.document.id])).content.decode()
    assert "Attached to" in detail and reverse("chats:detail", args=[conversation.id]) in detail
    assert "Used in that conversation's answers only." in detail


def test_without_javascript_the_form_posts_and_comes_back_with_a_message(owner_client, owner, conversation,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_client, conversation, follow=True)
    assert response.redirect_chain[-1][0].endswith(reverse("chats:detail", args=[conversation.id]) + "#composer")
    assert any("was attached" in m for m in messages_of(response))
    page = response.content.decode()
    assert 'id="attachment-form"' in page and 'form="attachment-form"' in page


@pytest.mark.parametrize("name, data, message", [
    ("run.exe", b"MZ binary", "Files of this type are not supported. Upload one of: .txt, .md, .html, .htm, .pdf, "
                              ".csv, .docx."),
    ("empty.txt", b"", "This file is empty."),
])
def test_a_refused_file_is_a_clear_message_and_nothing_is_saved(owner_client, owner, conversation, name, data, message):
    response = _upload(owner_client, conversation, name=name, data=data, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == [message]
    assert _stored(owner) == (0, 0, 0)


def test_no_file_at_all_is_a_clear_message(owner_client, owner, conversation):
    response = owner_client.post(_add_url(conversation), {}, **JSON)
    assert response.status_code == 400 and response.json()["errors"] == ["Choose a file to upload."]
    assert _stored(owner) == (0, 0, 0)


def test_over_the_quota_is_a_clear_message_and_nothing_is_saved(owner_client, owner, conversation):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_files=0)
    response = _upload(owner_client, conversation, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == ["You have reached the number of files your plan allows."]
    assert _stored(owner) == (0, 0, 0)


def test_over_the_quota_without_javascript_too(owner_client, owner, conversation):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_storage=10)
    response = _upload(owner_client, conversation, follow=True)
    assert response.status_code == 200
    assert any("does not fit in your remaining storage" in m for m in messages_of(response))
    assert _stored(owner) == (0, 0, 0)


def test_too_large_is_refused_while_receiving(owner_client, owner, conversation, settings):
    settings.RAG_MAX_UPLOAD_BYTES = 1000
    response = _upload(owner_client, conversation, name="big.txt", data=b"a" * 40_000, **JSON)
    assert response.status_code == 413
    assert response.json()["errors"] == ["This file is too large. The limit is 1000\xa0bytes."]
    assert _stored(owner) == (0, 0, 0)


def test_a_spanish_reader_gets_the_refusal_in_spanish(owner_client, owner, conversation):
    owner_client.cookies["django_language"] = "es"
    response = _upload(owner_client, conversation, name="run.exe", **JSON)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("No se admiten archivos de este tipo. Sube uno de estos:")


def test_a_conversation_holds_at_most_the_limit(owner_client, owner, conversation, monkeypatch,
                                                django_capture_on_commit_callbacks):
    monkeypatch.setattr(attachments, "MAX_ATTACHMENTS_PER_CONVERSATION", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert _upload(owner_client, conversation, **JSON).status_code == 201
    response = _upload(owner_client, conversation, name="more.txt", data=b"Another file.", **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == ["A conversation can have at most 1 attached file. Remove one first."]
    assert _stored(owner) == (1, 1, 1)


def test_removing_an_attachment_deletes_its_document_passages_and_file(owner_client, owner, conversation,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        added = _upload(owner_client, conversation, **JSON).json()["added"]
    url = reverse("chats:attachment_delete", args=[conversation.id, added["id"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, **JSON)
    assert response.status_code == 200 and response.json()["attachments"] == []
    assert _stored(owner) == (0, 0, 0)
    with tenant(owner.id):
        assert not RagChunk.objects.exists()
    assert owner_client.post(url, **JSON).status_code == 404  # gone


def test_without_javascript_a_chips_remove_button_posts_and_comes_back(owner_client, owner, conversation,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        added = _upload(owner_client, conversation, **JSON).json()["added"]
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    url = reverse("chats:attachment_delete", args=[conversation.id, added["id"]])
    assert f'form="attachment-form" formaction="{url}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, follow=True)
    assert response.redirect_chain[-1][0].endswith("#composer")
    assert "“notes” was removed from this conversation." in messages_of(response)
    assert _stored(owner) == (0, 0, 0)


def test_attaching_needs_the_csrf_token(owner, conversation):
    client = client_for(owner)
    client.handler.enforce_csrf_checks = True
    response = _upload(client, conversation, **JSON)
    assert response.status_code == 403
    assert _stored(owner) == (0, 0, 0)


def test_every_new_url_is_a_404_for_someone_else(owner_client, other_client, owner, conversation,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        added = _upload(owner_client, conversation, **JSON).json()["added"]
    assert _upload(other_client, conversation, name="mine.txt", data=b"Theirs.", **JSON).status_code == 404
    assert other_client.get(reverse("chats:attachments", args=[conversation.id])).status_code == 404
    delete = reverse("chats:attachment_delete", args=[conversation.id, added["id"]])
    assert other_client.post(delete, **JSON).status_code == 404
    # Naming the owner's attachment under a conversation of their own is a 404 too.
    stranger = make_user("stranger@example.com")
    with tenant(stranger.id):
        theirs = factories.conversation(stranger, agent_=conversation.agent)
    assert client_for(stranger).post(reverse("chats:attachment_delete", args=[theirs.id, added["id"]]),
                                      **JSON).status_code == 404
    assert _stored(owner) == (1, 1, 1)


def test_signed_out_visitors_are_sent_to_sign_in(client, conversation):
    for method, url in [("post", _add_url(conversation)), ("get", reverse("chats:attachments", args=[conversation.id])),
                        ("post", reverse("chats:attachment_delete", args=[conversation.id, conversation.id]))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_listing_and_upload_answer_json_only_with_the_wrong_method_refused(owner_client, conversation):
    assert owner_client.get(_add_url(conversation)).status_code == 405
    response = owner_client.get(reverse("chats:attachments", args=[conversation.id]))
    assert response["Cache-Control"] == "no-store" and json.loads(response.content) == {"attachments": []}


# --- the link table: row-level security and its trigger ----------------------------------------------


def _document(user, title="Doc"):
    with tenant(user.id):
        return RagDocument.objects.create(user=user, title=title, source="PASTE", content="text")


def _link_count():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversation_documents")
        return cursor.fetchone()[0]


def test_links_are_invisible_and_untouchable_for_another_user(owner, other, conversation):
    document = _document(owner)
    with tenant(owner.id):
        link = ConversationDocument.objects.create(user=owner, conversation=conversation, document=document)
    assert _link_count() == 0  # no context sees nothing
    with tenant(other.id):
        assert _link_count() == 0
        with connection.cursor() as cursor:
            cursor.execute("UPDATE conversation_documents SET created_at = now() WHERE id = %s", [link.pk])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM conversation_documents WHERE id = %s", [link.pk])
            assert cursor.rowcount == 0
    with tenant(owner.id):
        assert _link_count() == 1


def test_a_link_takes_its_conversations_owner_and_refuses_anyone_elses_document(owner, other, conversation):
    mine = _document(owner)
    with tenant(owner.id):
        link = ConversationDocument.objects.create(user=other, conversation=conversation, document=mine)
        assert ConversationDocument.objects.filter(pk=link.pk, user=owner).exists()
        link.delete()
    theirs = _document(other, "Their document")
    with pytest.raises(DatabaseError) as failure, tenant(owner.id):
        ConversationDocument.objects.create(user=owner, conversation=conversation, document=theirs)
    assert failure.value.__cause__.sqlstate == "23503"
    with pytest.raises(DatabaseError) as failure, tenant(other.id):
        ConversationDocument.objects.create(user=other, conversation=conversation, document=theirs)
    assert failure.value.__cause__.sqlstate in {"42501", "23503"}
    with tenant(owner.id):
        assert not ConversationDocument.objects.exists()


def test_a_deleted_conversation_leaves_its_links_with_the_owner(owner, conversation):
    document = _document(owner)
    with tenant(owner.id):
        link = ConversationDocument.objects.create(user=owner, conversation=conversation, document=document)
        Conversation.objects.filter(pk=conversation.pk).delete()
        link.refresh_from_db()
    assert (link.conversation_id, link.user_id) == (None, owner.id)
    # The Documents pages say so.
    client = client_for(owner)
    assert "Attached to a deleted conversation" in client.get(reverse("rag:list")).content.decode()
    assert "a deleted conversation" in client.get(reverse("rag:document", args=[document.id])).content.decode()
    with pytest.raises(DatabaseError), tenant(owner.id):
        ConversationDocument.objects.create(user=owner, conversation=None, document=_document(owner, "Loose"))


def test_the_links_table_has_forced_rls_and_the_owner_policy():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'conversation_documents'::regclass")
        assert cursor.fetchone() == (True, True)
        cursor.execute("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'conversation_documents'::regclass")
        (policy,), = cursor.fetchall()
    assert "user_id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS \"nullif\")" in policy


# --- from a new chat's page: the first file opens the conversation -----------------------------------


def _new_url(agent):
    return reverse("chats:attachment_create_new", args=[agent.slug])


def test_a_file_attached_on_a_new_chat_opens_its_conversation(owner_client, owner, offline_agent,
                                                              django_capture_on_commit_callbacks):
    page = owner_client.get(reverse("chats:new", args=[offline_agent.slug])).content.decode()
    assert f'data-add-url="{_new_url(offline_agent)}"' in page and 'id="attachment-form"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_new_url(offline_agent), {"file": SimpleUploadedFile("notes.md", NOTES)}, **JSON)
    assert response.status_code == 201
    with tenant(owner.id):
        conversation = Conversation.objects.get()
        link = ConversationDocument.objects.select_related("document").get()
    assert conversation.agent_id == offline_agent.id and conversation.message_count == 0
    assert link.conversation_id == conversation.id and link.document.status == Status.INDEXED
    body = response.json()
    assert body["redirect"] == reverse("chats:detail", args=[conversation.id])
    assert body["add_url"] == _add_url(conversation) and body["added"]["id"] == str(link.id)


def test_a_refused_file_on_a_new_chat_opens_no_conversation(owner_client, owner, offline_agent):
    response = owner_client.post(_new_url(offline_agent), {"file": SimpleUploadedFile("run.exe", b"MZ")}, **JSON)
    assert response.status_code == 400 and response.json()["errors"][0].startswith("Files of this type")
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_files=0)
    response = owner_client.post(_new_url(offline_agent), {"file": SimpleUploadedFile("a.txt", b"ok")}, follow=True)
    assert any("number of files your plan allows" in m for m in messages_of(response))
    assert response.redirect_chain[-1][0] == reverse("chats:new", args=[offline_agent.slug])
    with tenant(owner.id):
        assert not Conversation.objects.exists()
    assert _stored(owner) == (0, 0, 0)


def test_without_javascript_a_new_chats_file_leads_to_its_conversation(owner_client, owner, offline_agent):
    response = owner_client.post(_new_url(offline_agent), {"file": SimpleUploadedFile("notes.md", NOTES)})
    with tenant(owner.id):
        conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:detail", args=[conversation.id]) + "#composer"


def test_a_new_chat_with_an_agent_someone_cannot_use_is_a_404(owner, other_client, other):
    private = factories.agent(owner, name="Private")
    response = other_client.post(_new_url(private), {"file": SimpleUploadedFile("a.txt", b"text")}, **JSON)
    assert response.status_code == 404
    with tenant(other.id):
        assert not Conversation.objects.exists() and not RagDocument.objects.exists()
