"""AI triage from the help centre, and the help centre's RAG documents kept apart from people's."""

import json

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from core.tenancy import tenant
from rag import retrieval
from rag.models import RagDocument, Source
from support import helpcentre, services
from support.models import SupportTicket
from support.suggestions import suggestion_of
from support.triage import parse_model_answer, rule_category, rule_priority
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

pytestmark = pytest.mark.django_db

PASSWORD_ARTICLE = ("Reset your password", "To reset your password open Settings, then Security, and press Reset "
                    "password. A reset link arrives by email within a minute.")
INVOICE_ARTICLE = ("Download an invoice", "Invoices are under Usage, then Billing. Each month's invoice is a PDF.")


def _ticket(user, capture, title, description):
    with capture(execute=True), tenant(user.id):
        return services.ticket_create(user=user, title=title, description=description)


def _fields(ticket):
    with tenant(ticket.user_id):
        row = SupportTicket.objects.get(pk=ticket.pk)
    data = model_to_dict(row)
    data.pop("ai_suggestion")
    return data, row


def test_offline_triage_suggests_cites_and_changes_no_field(owner, publish, django_capture_on_commit_callbacks):
    publish(*PASSWORD_ARTICLE)
    publish(*INVOICE_ARTICLE)
    ticket = _ticket(owner, django_capture_on_commit_callbacks, "Cannot log in",
                     "I forgot my password and cannot sign in. How do I reset the password?")
    data, row = _fields(ticket)
    suggestion = suggestion_of(row)
    assert suggestion.category == "ACCOUNT" and suggestion.priority == "HIGH" and suggestion.rule_based
    assert suggestion.citations and suggestion.citations[0].title == "Reset your password"
    assert "[1]" in suggestion.answer and "reset-your-password" in suggestion.citations[0].url
    assert row.category == "OTHER" and row.priority == "MEDIUM"  # nothing applied until staff accept
    with tenant(owner.id):
        before = SupportTicket.objects.get(pk=ticket.pk)
    assert before.updated_at == row.updated_at and data["status"] == "OPEN"


def test_model_triage_reads_only_the_owners_data_and_cites(owner, other, publish, settings,
                                                           django_capture_on_commit_callbacks):
    publish(*PASSWORD_ARTICLE)
    with tenant(other.id):
        services.ticket_create(user=other, title="Oscar's secret ticket", description="OSCAR-PRIVATE-42")
    from rag import services as rag_services

    with django_capture_on_commit_callbacks(execute=True):
        rag_services.document_create_from_text(user=owner, title="My notes", text="OWNER-DOC password notes")
        rag_services.document_create_from_text(user=other, title="Other notes", text="OTHER-DOC password notes")
    reply = "CATEGORY: ACCOUNT\nPRIORITY: HIGH\n\nOpen Settings and press Reset password [1]."
    with FakeServer(FakeOpenAI, script=Script(reply=reply)) as server:
        settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = f"{server.url}/v1", "sk-test"
        settings.SUPPORT_TRIAGE_MODEL = "gpt-4o-mini"
        ticket = _ticket(owner, django_capture_on_commit_callbacks, "Password", "How do I reset my password?")
        bodies = [json.dumps(r["json"]) for r in server.requests if r["path"].endswith("/chat/completions")]
    assert len(bodies) == 1
    prompt = bodies[0]
    assert "How do I reset my password?" in prompt and "Reset your password" in prompt
    assert "OSCAR-PRIVATE-42" not in prompt and "OTHER-DOC" not in prompt and "OWNER-DOC" not in prompt
    assert "Olivia" in prompt  # the owner's own profile
    _, row = _fields(ticket)
    suggestion = suggestion_of(row)
    assert suggestion.model == "gpt-4o-mini" and suggestion.category == "ACCOUNT" and suggestion.priority == "HIGH"
    assert [c.number for c in suggestion.citations] == [1] and "Sources:" in suggestion.answer
    assert row.category == "OTHER" and row.priority == "MEDIUM"


def test_a_failing_model_is_retried_then_falls_back_to_rules(owner, publish, settings, django_capture_on_commit_callbacks):
    publish(*PASSWORD_ARTICLE)
    from celery.exceptions import Retry

    from support.tasks import TRIAGE_RETRIES, triage_ticket_task

    with tenant(owner.id):
        ticket = services.ticket_create(user=owner, title="Password", description="reset my password please")
    with FakeServer(FakeOpenAI, script=Script(status=503)) as server:
        settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = f"{server.url}/v1", "sk-test"
        settings.SUPPORT_TRIAGE_MODEL = "gpt-4o-mini"
        with pytest.raises(Retry):
            triage_ticket_task.apply(args=[str(ticket.pk), str(owner.id)], throw=True)
        assert suggestion_of(_fields(ticket)[1]) is None
        triage_ticket_task.apply(args=[str(ticket.pk), str(owner.id)], retries=TRIAGE_RETRIES, throw=True)
    _, row = _fields(ticket)
    suggestion = suggestion_of(row)
    assert suggestion is not None and suggestion.rule_based


def test_rules_and_parsing():
    assert rule_category("Me cobraron dos veces la suscripción") == "BILLING"
    assert rule_priority("URGENT: we lost all data") == "URGENT"
    assert rule_priority("a question about agents") == "LOW"
    assert rule_priority("a question", tier="ENTERPRISE") == "MEDIUM"
    assert parse_model_answer("CATEGORY: BILLING\nPRIORITY: nope\n\nHi") == ("BILLING", "", "Hi")


def test_help_documents_are_system_and_never_in_a_persons_results(owner, owner_client, publish,
                                                                  django_capture_on_commit_callbacks):
    article = publish(*PASSWORD_ARTICLE)
    draft = publish("Unpublished draft", "password draft text", is_published=False)
    system = helpcentre.system_owner()
    with tenant(system.id):
        document = RagDocument.objects.get(pk=article.rag_document_id)
    assert document.source == Source.SYSTEM and document.collection == helpcentre.HELP_CENTRE_COLLECTION
    assert draft.rag_document_id is None
    assert retrieval.retrieve(user=owner, query="reset password") == []
    assert [p.article.pk for p in helpcentre.help_passages("reset my password")] == [article.pk]
    page = owner_client.get(reverse("support:help"), {"q": "reset password"}).content.decode()
    assert "Reset your password" in page and "Unpublished draft" not in page
    assert owner_client.get(reverse("support:article", args=[article.slug])).status_code == 200
    assert owner_client.get(reverse("support:article", args=[draft.slug])).status_code == 404
    found = owner_client.get(reverse("support:deflection"), {"q": "forgot my password"}).json()
    assert [a["title"] for a in found["articles"]] == ["Reset your password"]
    listing = owner_client.get(reverse("support:help")).content.decode()
    assert "Reset your password" in listing and "Unpublished draft" not in listing


def test_a_new_ticket_the_triage_finds_urgent_emails_staff_in_their_language(owner, django_capture_on_commit_callbacks):
    from django.core import mail

    from accounts.models import UserSettings
    from testutils.testing import make_user

    agent = make_user("agent@example.com", role="SUPPORT")
    with tenant(agent.id):
        UserSettings.objects.filter(user=agent).update(language="es")
    ticket = _ticket(owner, django_capture_on_commit_callbacks, "URGENT", "We lost all data after the update")
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert ticket.ticket_number in mail.outbox[0].subject
    assert "/admin/support/supportticket/" in mail.outbox[0].body


def test_the_sweep_triages_a_ticket_whose_task_was_lost(owner):
    import datetime as dt

    from support.tasks import triage_pending_task

    with tenant(owner.id):
        lost = services.ticket_create(user=owner, title="Lost", description="the broker was down")  # no commit: no task
        fresh = services.ticket_create(user=owner, title="Fresh", description="just opened")
        SupportTicket.objects.filter(pk=lost.pk).update(created_at=lost.created_at - dt.timedelta(minutes=10))
    assert triage_pending_task() == 1
    assert suggestion_of(_fields(lost)[1]) is not None and suggestion_of(_fields(fresh)[1]) is None
    assert triage_pending_task() == 0
