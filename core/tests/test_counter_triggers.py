"""Counters kept by triggers: exact, including under concurrency, deletes and soft deletes."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections
from django.utils import timezone

from agents.models import Agent
from chats.models import ChatSession, Conversation, Message
from core.tenancy import tenant
from metrics.models import MonthlyUsage, UsageLog
from storage.models import StorageQuota
from testutils import factories
from testutils.testing import make_user


def _run_threads(count, target):
    errors = []

    def wrapped(index):
        try:
            target(index)
        except Exception as exc:  # collected and re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# --- messages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_message_counters_on_insert_and_delete(owner):
    conversation = factories.make("conversations", owner)
    with tenant(owner.id):
        messages = [Message.objects.create(conversation=conversation, user=owner, role="user", content=f"m{i}", tokens_input=3, tokens_output=4) for i in range(5)]
        Message.objects.bulk_create([Message(conversation=conversation, user=owner, role="assistant", content="b", tokens_output=10) for _ in range(3)])
        conversation.refresh_from_db()
        assert (conversation.message_count, conversation.token_count) == (8, 5 * 7 + 30)
        messages[0].delete()
        Message.objects.filter(role="assistant").delete()
        conversation.refresh_from_db()
        assert (conversation.message_count, conversation.token_count) == (4, 4 * 7)
        # Correcting a message's token counts moves the conversation's total with it.
        Message.objects.filter(pk=messages[1].pk).update(tokens_output=14)
        conversation.refresh_from_db()
        assert conversation.token_count == 4 * 7 + 10


@pytest.mark.django_db
def test_message_insert_touches_session_and_conversation_activity(owner):
    conversation = factories.make("conversations", owner)
    later = timezone.now() + timezone.timedelta(minutes=5)
    with tenant(owner.id):
        Message.objects.create(conversation=conversation, user=owner, role="user", content="hi", timestamp=later)
        assert ChatSession.objects.get(pk=conversation.chat_session_id).last_activity == later
        assert Conversation.objects.get(pk=conversation.pk).last_message_at == later


@pytest.mark.django_db(transaction=True)
def test_message_counters_are_exact_under_concurrency():
    owner = make_user("concurrent@example.com")
    conversation = factories.make("conversations", owner)

    def insert_hundred(_):
        for i in range(100):
            with tenant(owner.id):
                Message.objects.create(conversation_id=conversation.pk, user=owner, role="user", content=f"x{i}", tokens_input=1, tokens_output=2)

    _run_threads(8, insert_hundred)
    with tenant(owner.id):
        conversation.refresh_from_db()
        assert conversation.message_count == 800
        assert conversation.token_count == 2400
        assert Message.objects.count() == 800


# --- usage logs ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_usage_log_rolls_up_into_user_agent_and_month(owner):
    conversation = factories.make("conversations", owner)
    other_agent = factories.agent(owner)
    with tenant(owner.id):
        for tokens, agent in (((10, 20), conversation.agent), ((5, 5), conversation.agent), ((1, 1), other_agent)):
            UsageLog.objects.create(user=owner, agent=agent, conversation=conversation, tokens_input=tokens[0], tokens_output=tokens[1],
                                    total_tokens=sum(tokens), model="offline", total_cost=Decimal("0.010000"))
        month = MonthlyUsage.objects.get(user=owner)
    owner.refresh_from_db()
    assert (owner.total_messages, owner.total_tokens_used) == (3, 42)
    assert Agent.objects.get(pk=conversation.agent_id).total_uses == 2
    assert Agent.objects.get(pk=other_agent.pk).total_uses == 1
    now = timezone.now()
    assert (month.year, month.month, month.total_messages, month.total_tokens) == (now.year, now.month, 3, 42)
    assert month.total_cost == Decimal("0.030000")
    assert month.agent_usage[str(conversation.agent_id)] == {"messages": 2, "tokens": 40, "cost": 0.02}
    assert month.agent_usage[str(other_agent.pk)]["messages"] == 1


@pytest.mark.django_db
def test_usage_logs_of_another_month_go_to_that_month(owner):
    agent = factories.agent(owner)
    with tenant(owner.id):
        UsageLog.objects.create(user=owner, agent=agent, model="offline", tokens_input=1, total_tokens=1,
                                timestamp=timezone.datetime(2025, 12, 31, 23, 0, tzinfo=dt.timezone.utc))
        UsageLog.objects.create(user=owner, agent=agent, model="offline", tokens_input=1, total_tokens=1,
                                timestamp=timezone.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone.utc))
        assert sorted(MonthlyUsage.objects.values_list("year", "month", "total_messages")) == [(2025, 12, 1), (2026, 1, 1)]


@pytest.mark.django_db(transaction=True)
def test_usage_rollups_are_exact_under_concurrency():
    owner = make_user("busy@example.com")
    with tenant(owner.id):
        agent = factories.agent(owner)

    def log_fifty(_):
        for _ in range(50):
            with tenant(owner.id):
                UsageLog.objects.create(user=owner, agent=agent, model="offline", tokens_input=2, tokens_output=3, total_tokens=5,
                                        total_cost=Decimal("0.000100"))

    _run_threads(8, log_fifty)
    owner.refresh_from_db()
    assert (owner.total_messages, owner.total_tokens_used) == (400, 2000)
    assert Agent.objects.get(pk=agent.pk).total_uses == 400
    with tenant(owner.id):
        month = MonthlyUsage.objects.get(user=owner)
    assert (month.total_messages, month.total_tokens, month.total_cost) == (400, 2000, Decimal("0.040000"))
    assert month.agent_usage[str(agent.pk)]["messages"] == 400


# --- storage -------------------------------------------------------------------------------------


def _quota(owner):
    with tenant(owner.id):
        return StorageQuota.objects.get(user=owner)


@pytest.mark.django_db
def test_storage_counters_follow_inserts_soft_deletes_restores_and_deletes(owner):
    with tenant(owner.id):
        a = factories.storage_file(owner, size=1000, usage_context="RAG")
        b = factories.storage_file(owner, size=500)
    quota = _quota(owner)
    assert (quota.file_count, quota.used_storage) == (2, 1500)
    assert quota.usage_breakdown == {"RAG": {"bytes": 1000, "files": 1}, "GENERAL": {"bytes": 500, "files": 1}}
    with tenant(owner.id):
        a.deleted_at = timezone.now()
        a.save()
    quota = _quota(owner)
    assert (quota.file_count, quota.used_storage) == (1, 500)
    assert quota.usage_breakdown["RAG"] == {"bytes": 0, "files": 0}
    with tenant(owner.id):
        a.deleted_at = None
        a.save()
        b.delete()
    quota = _quota(owner)
    assert (quota.file_count, quota.used_storage) == (1, 1000)
    with tenant(owner.id):
        a.deleted_at = timezone.now()
        a.save()
        a.delete()  # deleting a file from the trash does not count twice
    quota = _quota(owner)
    assert (quota.file_count, quota.used_storage) == (0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("limit,values,size", [
    ("max_file_size", {"max_file_size": 100}, 101),
    ("max_storage", {"max_storage": 1000}, 600),
    ("max_files", {"max_files": 1}, 10),
])
def test_quota_trigger_refuses_and_leaves_counters_unchanged(owner, limit, values, size):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(**values)
        factories.storage_file(owner, size=min(size, 500) if limit != "max_file_size" else 50)
    before = _quota(owner)
    with pytest.raises(IntegrityError) as refusal, tenant(owner.id):
        factories.storage_file(owner, size=size)
    assert refusal.value.__cause__.sqlstate == "23Q01"
    assert f"storage_quota:{limit}" in str(refusal.value)
    after = _quota(owner)
    assert (after.file_count, after.used_storage, after.usage_breakdown) == (before.file_count, before.used_storage, before.usage_breakdown)


@pytest.mark.django_db
def test_restoring_from_the_trash_is_checked_against_the_quota(owner):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_storage=1000)
        trashed = factories.storage_file(owner, size=800, deleted_at=timezone.now())
        factories.storage_file(owner, size=800)
    with pytest.raises(IntegrityError, match="max_storage"), tenant(owner.id):
        trashed.deleted_at = None
        trashed.save()


@pytest.mark.django_db(transaction=True)
def test_quota_holds_under_concurrent_uploads():
    owner = make_user("uploader@example.com")
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_files=10)
    refused = []

    def upload(_):
        for _ in range(5):
            try:
                with tenant(owner.id):
                    factories.storage_file(owner, size=1)
            except IntegrityError:
                refused.append(1)

    _run_threads(4, upload)
    quota = _quota(owner)
    assert quota.file_count == 10
    assert len(refused) == 10


# --- audit and numbering triggers ------------------------------------------------------------------


@pytest.mark.django_db
def test_grants_revocations_and_connections_are_audited(owner, staff):
    from accounts.models import AuditLog
    from agents.models import UserAgentPermission
    from integrations.models import McpIntegration

    agent = factories.agent(staff)
    with tenant(staff.id):
        grant = UserAgentPermission.objects.create(user=owner, agent=agent, granted_by=staff)
        grant.delete()
    assert AuditLog.objects.filter(action="agent.grant", admin=staff, target_id=agent.pk, details__user_id=str(owner.pk)).exists()
    assert AuditLog.objects.filter(action="agent.revoke", admin=staff, target_id=agent.pk).exists()
    with tenant(owner.id):
        integration = McpIntegration.objects.create(user=owner, provider="notion")
        integration.is_active = False
        integration.save()
    actions = list(AuditLog.objects.filter(target_id=integration.pk).order_by("timestamp").values_list("action", flat=True))
    assert actions == ["integration.connect", "integration.disconnect"]


@pytest.mark.django_db
def test_support_tickets_are_numbered(owner):
    with tenant(owner.id):
        first = factories.support_ticket(owner)
        second = factories.support_ticket(owner)
        first.refresh_from_db()
        second.refresh_from_db()
    assert first.ticket_number.startswith("T-") and first.ticket_number != second.ticket_number
