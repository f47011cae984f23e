"""The user's side: opening, listing, conversing, closing, reopening, rating; bad input; 404s."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.tenancy import bypass, tenant
from support import services
from support.models import SupportMessage, SupportTicket, TicketStatus
from testutils.testing import messages_of

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _file(name, data):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _ticket(user, **fields):
    with tenant(user.id):
        return services.ticket_create(user=user, title=fields.pop("title", "Help"),
                                      description=fields.pop("description", "It broke"), **fields)


def test_open_a_ticket_with_an_attachment(owner_client, owner):
    response = owner_client.post(reverse("support:new"), {
        "title": "Screen is blank", "description": "After login the screen is blank.", "category": "BUG",
        "files": [_file("shot.png", PNG)],
    })
    assert response.status_code == 302
    with tenant(owner.id):
        ticket = SupportTicket.objects.get(user=owner)
        from storage.models import StorageFile
        stored = StorageFile.objects.get(user=owner)
    assert ticket.category == "BUG" and ticket.ticket_number.startswith("T-")
    assert stored.usage_context == "SUPPORT" and stored.mime_type == "image/png"
    assert ticket.metadata["attachments"][0]["file_id"] == str(stored.id)
    page = owner_client.get(response["Location"]).content.decode()
    assert ticket.ticket_number in page and "shot.png" in page
    download = owner_client.get(reverse("support:attachment", args=[ticket.pk, stored.id]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


@pytest.mark.parametrize("data,expected", [
    ({"title": "", "description": "x", "category": "OTHER"}, "This field is required."),
    ({"title": "Long", "description": "x" * 100_000, "category": "OTHER"}, "at most 10000 characters"),
    ({"title": "Bad", "description": "x", "category": "NOPE"}, "Select a valid choice"),
])
def test_bad_tickets_are_refused_and_nothing_is_saved(owner_client, owner, data, expected):
    response = owner_client.post(reverse("support:new"), data)
    assert response.status_code == 400 and expected in response.content.decode()
    with tenant(owner.id):
        assert not SupportTicket.objects.exists()


def test_a_disallowed_attachment_type_is_refused_in_spanish(owner_client, owner):
    response = owner_client.post(reverse("support:new"), {
        "title": "Script", "description": "see file", "category": "OTHER",
        "files": [_file("page.html", b"<!doctype html><script>alert(1)</script>")],
    }, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "page.html" in response.content.decode()
    with tenant(owner.id):
        from storage.models import StorageFile
        assert not SupportTicket.objects.exists() and not StorageFile.objects.exists()


def test_list_shows_status_and_searches_by_number(owner_client, owner):
    first = _ticket(owner, title="Billing question")
    _ticket(owner, title="Another")
    page = owner_client.get(reverse("support:list")).content.decode()
    assert first.ticket_number in page and "Open" in page
    number = int(first.ticket_number[2:])
    found = owner_client.get(reverse("support:list"), {"q": str(number)}).content.decode()
    assert "Billing question" in found and "Another" not in found


def test_list_queries_do_not_grow_with_tickets(owner_client, owner):
    _ticket(owner)
    owner_client.get(reverse("support:list"))
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("support:list"))
    for i in range(20):
        _ticket(owner, title=f"T{i}")
    with CaptureQueriesContext(connection) as many:
        owner_client.get(reverse("support:list"))
    assert len(many) == len(few)


def test_every_ticket_url_answers_another_user_with_404(owner, other_client):
    ticket = _ticket(owner)
    with tenant(owner.id):
        message = SupportMessage.objects.create(ticket=ticket, user=owner, author=None, content="AI", is_staff=True, is_ai=True)
    file_id = "00000000-0000-0000-0000-000000000001"
    gets = [reverse("support:detail", args=[ticket.pk]), reverse("support:messages", args=[ticket.pk]),
            reverse("support:attachment", args=[ticket.pk, file_id])]
    posts = [reverse("support:reply", args=[ticket.pk]), reverse("support:close", args=[ticket.pk]),
             reverse("support:reopen", args=[ticket.pk]), reverse("support:rate", args=[ticket.pk]),
             reverse("support:ai_resolved", args=[ticket.pk, message.pk])]
    for url in gets:
        assert other_client.get(url).status_code == 404, url
    for url in posts:
        assert other_client.post(url, {"content": "mine now", "rating": "5"}).status_code == 404, url
    with tenant(owner.id):
        assert SupportMessage.objects.filter(ticket=ticket).count() == 1
        assert SupportTicket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_conversation_staff_reply_appears_by_polling_and_email_but_notes_never(owner_client, owner, staff,
                                                                                django_capture_on_commit_callbacks):
    ticket = _ticket(owner)
    detail = owner_client.get(reverse("support:detail", args=[ticket.pk]))
    assert detail.status_code == 200
    since = timezone.now() - dt.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True), bypass("test: staff reply", actor_id=staff.id):
        services.staff_reply(actor=staff, ticket=ticket, content="SECRET-NOTE: user is on the old plan", internal=True)
        services.staff_reply(actor=staff, ticket=ticket, content="Try signing out and in again.")
    poll = owner_client.get(reverse("support:messages", args=[ticket.pk]), {"after": since.isoformat()}).json()
    assert len(poll["messages"]) == 1 and "Try signing out" in poll["messages"][0]["html"]
    assert poll["status"] == TicketStatus.WAITING
    page = owner_client.get(reverse("support:detail", args=[ticket.pk])).content.decode()
    assert "Try signing out" in page and "SECRET-NOTE" not in page
    assert len(mail.outbox) == 1
    assert "Try signing out" in mail.outbox[0].body and "SECRET-NOTE" not in mail.outbox[0].body
    assert reverse("support:detail", args=[ticket.pk]) in mail.outbox[0].body
    response = owner_client.post(reverse("support:reply", args=[ticket.pk]), {"content": "Still broken"})
    assert response.status_code == 302
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_close_reply_refused_reopen_window_and_rate(owner_client, owner, settings):
    settings.SUPPORT_REOPEN_DAYS = 7
    ticket = _ticket(owner)
    assert owner_client.post(reverse("support:close", args=[ticket.pk])).status_code == 302
    refused = owner_client.post(reverse("support:reply", args=[ticket.pk]), {"content": "one more thing"})
    assert refused.status_code == 400 and "This ticket is closed" in refused.content.decode()
    rated = owner_client.post(reverse("support:rate", args=[ticket.pk]), {"rating": "4"}, follow=True)
    assert "Thank you for rating" in " ".join(messages_of(rated))
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).rating == 4
        assert SupportMessage.objects.count() == 0
    assert owner_client.post(reverse("support:reopen", args=[ticket.pk])).status_code == 302
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    owner_client.post(reverse("support:close", args=[ticket.pk]))
    with tenant(owner.id):
        SupportTicket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))
    late = owner_client.post(reverse("support:reopen", args=[ticket.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="es")
    assert any("7" in m for m in messages_of(late))
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_marking_an_ai_answer_as_the_resolution_sets_ai_resolved(owner_client, owner, staff):
    ticket = _ticket(owner)
    with bypass("test", actor_id=staff.id):
        human = services.staff_reply(actor=staff, ticket=ticket, content="A person's answer")
        ai = services.staff_reply(actor=staff, ticket=ticket, content="Drafted answer [1]", is_ai=True)
    refused = owner_client.post(reverse("support:ai_resolved", args=[ticket.pk, human.pk]), follow=True)
    assert "Only an answer drafted by the assistant" in " ".join(messages_of(refused))
    owner_client.post(reverse("support:ai_resolved", args=[ticket.pk, ai.pk]))
    with tenant(owner.id):
        ticket.refresh_from_db()
    assert ticket.ai_resolved and ticket.status == TicketStatus.RESOLVED


def test_status_change_email_goes_out_in_the_users_language(owner, staff, django_capture_on_commit_callbacks):
    from unittest import mock

    from django.utils import translation

    from accounts.models import UserSettings

    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).update(language="es")
    ticket = _ticket(owner)
    languages = []

    def send(**kwargs):
        languages.append(translation.get_language())
        mail.send_mail(**kwargs)

    with mock.patch("support.notifications.send_mail", side_effect=send), \
            django_capture_on_commit_callbacks(execute=True), bypass("test", actor_id=staff.id):
        services.staff_update(actor=staff, ticket=ticket, status=TicketStatus.RESOLVED)
    assert languages == ["es"]
    assert len(mail.outbox) == 1 and ticket.ticket_number in mail.outbox[0].subject
    assert reverse("support:detail", args=[ticket.pk]) in mail.outbox[0].body


@pytest.mark.parametrize("after", ["2026-13-45T00:00:00", "\x00", "yesterday", "9" * 40])
def test_polling_with_a_bad_time_answers_everything_visible(owner_client, owner, after):
    ticket = _ticket(owner)
    response = owner_client.get(reverse("support:messages", args=[ticket.pk]), {"after": after})
    assert response.status_code == 200 and response.json()["messages"] == []
