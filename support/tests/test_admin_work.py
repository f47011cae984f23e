"""Staff in the admin: replies and notes, assignment, the AI suggestion, metrics; role scoping by URL."""

import pytest
from django.contrib import admin
from django.core import mail
from django.urls import reverse

from accounts.models import AuditLog
from core.tenancy import tenant
from support import services
from support.models import CannedReply, SupportMessage, SupportTicket
from testutils import factories
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db


def _ticket(owner, capture=None, **fields):
    with tenant(owner.id):
        return services.ticket_create(user=owner, title=fields.pop("title", "Cannot log in"),
                                      description=fields.pop("description", "I forgot my password"), **fields)


def _post(client, ticket, **data):
    values = {"status": ticket.status, "priority": ticket.priority, "category": ticket.category,
              "assigned_to": str(ticket.assigned_to_id or ""), "reply": "", "canned_reply": "", **data}
    return client.post(reverse("admin:support_supportticket_change", args=[ticket.pk]), values)


def test_support_replies_notes_and_assigns_with_audit(owner, owner_client, support_client, support_user,
                                                      django_capture_on_commit_callbacks):
    ticket = _ticket(owner)
    page = support_client.get(reverse("admin:support_supportticket_change", args=[ticket.pk])).content.decode()
    assert owner.email in page and "Olivia Owner" in page and ticket.ticket_number in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(support_client, ticket, reply="INTERNAL-ONLY check the logs", internal="on")
        assert response.status_code == 302, response.content.decode()[:2000]
        response = _post(support_client, ticket, reply="Hello {name}, try again now.",
                         assigned_to=str(support_user.pk), priority="HIGH")
        assert response.status_code == 302
    with tenant(owner.id):
        row = SupportTicket.objects.get(pk=ticket.pk)
        notes = list(SupportMessage.objects.filter(ticket=ticket).values_list("is_internal", flat=True))
    assert row.assigned_to_id == support_user.pk and row.priority == "HIGH" and row.status == "WAITING"
    assert row.first_response_at is not None and sorted(notes) == [False, True]
    assert len(mail.outbox) == 1 and "INTERNAL-ONLY" not in mail.outbox[0].body
    user_page = owner_client.get(reverse("support:detail", args=[ticket.pk])).content.decode()
    assert "INTERNAL-ONLY" not in user_page and "try again now" in user_page
    actions = set(AuditLog.objects.filter(target_id=ticket.pk).values_list("action", flat=True))
    assert {"support.note", "support.reply", "support.assigned_to_change", "support.priority_change"} <= actions


def test_canned_reply_placeholders(owner, support_client):
    ticket = _ticket(owner)
    from core.tenancy import bypass

    with bypass("test"):
        canned = CannedReply.objects.create(title="Hello", body="Hi {name}, about {ticket}: done.")
    assert _post(support_client, ticket, canned_reply=str(canned.pk)).status_code == 302
    with tenant(owner.id):
        content = SupportMessage.objects.get(ticket=ticket).content
    assert content == f"Hi Olivia Owner, about {ticket.ticket_number}: done."


def test_assigning_to_a_non_staff_user_or_replying_to_closed_is_refused(owner, other, support_client):
    ticket = _ticket(owner)
    response = _post(support_client, ticket, assigned_to=str(other.pk))
    assert response.status_code == 200
    assert "Tickets can be assigned only to support staff or admins." in response.content.decode()
    with tenant(owner.id):
        SupportTicket.objects.filter(pk=ticket.pk).update(status="CLOSED")
        ticket.refresh_from_db()
    response = _post(support_client, ticket, reply="late answer")
    assert response.status_code == 200 and "This ticket is closed" in response.content.decode()
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).assigned_to_id is None
        assert not SupportMessage.objects.filter(ticket=ticket).exists()


def test_ai_suggestion_accept_and_send(owner, support_client, publish, django_capture_on_commit_callbacks):
    publish("Reset your password", "Open Settings, Security, and press Reset password.")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _ticket(owner, title="Cannot sign in", description="I cannot sign in, reset password?")
    page = support_client.get(reverse("admin:support_supportticket_change", args=[ticket.pk])).content.decode()
    assert "Apply category and priority" in page and "Reset your password" in page
    support_client.post(reverse("admin:support_supportticket_ai", args=[ticket.pk, "accept"]))
    with tenant(owner.id):
        row = SupportTicket.objects.get(pk=ticket.pk)
    assert (row.category, row.priority, row.ai_decision) == ("ACCOUNT", "HIGH", "ACCEPTED")
    support_client.post(reverse("admin:support_supportticket_ai", args=[ticket.pk, "send"]), {"ai_draft": "Edited [1]"})
    with tenant(owner.id):
        message = SupportMessage.objects.get(ticket=ticket)
        row.refresh_from_db()
    assert message.is_ai and message.content == "Edited [1]" and row.ai_decision == "SENT"
    metrics = support_client.get(reverse("admin:support_supportmetrics_changelist"))
    assert metrics.status_code == 200 and "100 %" in metrics.content.decode()
    assert "Support metrics" in support_client.get(reverse("admin:index")).content.decode()


FORBIDDEN_FOR_SUPPORT = ["chats", "rag", "storage", "finance", "integrations", "artifacts", "agents", "metrics"]


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "ADMIN", "SUPPORT", "USER"])
def test_role_scoping_by_url(role, owner):
    client = client_for(make_user(f"{role.lower()}@example.com", role=role))
    ticket = _ticket(owner)
    user_record = reverse("admin:accounts_user_change", args=[owner.pk])
    ticket_page = reverse("admin:support_supportticket_change", args=[ticket.pk])
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        status = client.get(url).status_code
        if role == "USER":
            assert status == 302, url
        elif role == "SUPPORT" and (opts.app_label in FORBIDDEN_FOR_SUPPORT or
                                    (opts.app_label == "accounts" and opts.model_name != "auditlog")):
            assert status == 403, url
        elif role == "SUPPORT" and opts.app_label in ("support", "accounts"):
            assert status == 200, url
    expected = {"USER": (302, 302), "SUPPORT": (403, 200)}.get(role, (200, 200))
    assert (client.get(user_record).status_code, client.get(ticket_page).status_code) == expected
    if role == "SUPPORT":
        for table in ("conversations", "rag_documents", "storage_files", "transactions", "mcp_integrations"):
            row = factories.make(table, owner)
            opts = type(row)._meta
            assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])).status_code == 403
        index = client.get(reverse("admin:index")).content.decode()
        assert "/admin/health/" not in index and "/admin/finance/" not in index and "/admin/accounts/user/" not in index
        assert client.get("/admin/health/").status_code == 404


def test_the_queue_and_metrics_pages_make_the_same_queries_for_few_and_many(owner, support_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _ticket(owner)
    urls = [reverse("admin:support_supportticket_changelist"), reverse("admin:support_supportticket_changelist") + "?queue=overdue",
            reverse("admin:support_supportmetrics_changelist")]
    few = []
    for url in urls:
        support_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert support_client.get(url).status_code == 200
        few.append(len(queries))
    for i in range(15):
        _ticket(owner, title=f"More {i}")
    many = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            support_client.get(url)
        many.append(len(queries))
    assert many == few


def test_admin_extra_urls_refuse_bad_input_without_a_500(owner, support_client, owner_client):
    ticket = _ticket(owner)
    ai = "admin:support_supportticket_ai"
    assert support_client.post(reverse(ai, args=["not-a-uuid", "accept"])).status_code == 404
    assert support_client.post(reverse(ai, args=[ticket.pk, "explode"])).status_code == 404
    assert support_client.get(reverse(ai, args=[ticket.pk, "accept"])).status_code == 405
    no_suggestion = support_client.post(reverse(ai, args=[ticket.pk, "send"]), follow=True)
    assert "This ticket has no AI suggestion yet." in no_suggestion.content.decode()
    attachment = reverse("admin:support_supportticket_attachment", args=[ticket.pk, "00000000-0000-0000-0000-000000000001"])
    assert support_client.get(attachment).status_code == 404
    assert owner_client.post(reverse(ai, args=[ticket.pk, "accept"])).status_code == 302  # to the admin's login
    with tenant(owner.id):
        assert not SupportMessage.objects.exists()
