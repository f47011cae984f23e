"""Rows for every table of the ERD, for tests and benchmarks.

``make(table, owner)`` creates a row of ``table`` owned by ``owner`` (and the parents it needs)
inside the owner's RLS context and returns it. Agents are created by the owner too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import secrets
from decimal import Decimal

from django.utils import timezone

from core.tenancy import tenant

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def agent(owner, **kw):
    from agents.models import Agent

    n = _n()
    kw.setdefault("name", f"Agent {n}")
    kw.setdefault("slug", f"agent-{n}-{secrets.token_hex(3)}")
    kw.setdefault("model", "offline")
    return Agent.objects.create(created_by=owner, **kw)


def chat_session(owner):
    from chats.models import ChatSession

    return ChatSession.objects.create(user=owner)


def conversation(owner, *, session=None, agent_=None):
    from chats.models import Conversation

    return Conversation.objects.create(chat_session=session or chat_session(owner), agent=agent_ or agent(owner), user=owner, title="Hello")


def message(owner, *, conv=None, **kw):
    from chats.models import Message

    kw.setdefault("content", "hello world")
    kw.setdefault("role", "user")
    return Message.objects.create(conversation=conv or conversation(owner), user=owner, **kw)


def artifact(owner, *, conv=None, **kw):
    from artifacts.models import Artifact

    conv = conv or conversation(owner)
    return Artifact.objects.create(agent=conv.agent, user=owner, conversation=conv, name="snippet", type="CODE", content="print(1)", **kw)


def rag_document(owner):
    from rag.models import RagDocument

    return RagDocument.objects.create(user=owner, title="Doc", source="PASTE")


def integration(owner, provider="github"):
    from integrations.models import McpIntegration

    return McpIntegration.objects.create(user=owner, provider=provider, access_token_encrypted="tok")


def sync_log(owner, *, integ=None):
    from integrations.models import McpSyncLog

    return McpSyncLog.objects.create(integration=integ or integration(owner), user=owner, status="SUCCESS", items_synced=3)


def folder(owner, *, parent=None, name=None):
    from storage.models import StorageFolder

    name = name or f"folder{_n()}"
    path = f"{parent.path}/{name}" if parent else f"/{name}"
    return StorageFolder.objects.create(user=owner, name=name, parent=parent, path=path)


def storage_file(owner, *, size=100, folder_=None, **kw):
    from storage.models import StorageFile

    n = _n()
    return StorageFile.objects.create(
        user=owner, folder=folder_, filename=f"f{n}.txt", original_name=f"file {n}.txt", storage_path=f"u/{owner.id}/{n}",
        mime_type="text/plain", size=size, checksum=hashlib.sha256(f"{n}-{secrets.token_hex(4)}".encode()).hexdigest(), **kw,
    )


def file_access_log(owner, *, file=None):
    from storage.models import FileAccessLog

    return FileAccessLog.objects.create(file=file or storage_file(owner), user=owner, owner=owner, action="VIEW", ip_address="127.0.0.1")


def file_share(owner, *, file=None):
    from storage.models import FileShare

    return FileShare.objects.create(file=file or storage_file(owner), shared_by=owner, user=owner, share_token=secrets.token_urlsafe(16))


def health_profile(owner):
    from health.models import HealthProfile

    return HealthProfile.objects.get_or_create(user=owner, defaults={"blood_type": "O+", "emergency_contacts": [{"name": "Ana"}]})[0]


def medical_condition(owner):
    from health.models import MedicalCondition

    return MedicalCondition.objects.create(health_profile=health_profile(owner), user=owner, name="Asthma")


def medication(owner):
    from health.models import Medication

    return Medication.objects.create(health_profile=health_profile(owner), user=owner, name="Ventolin", dosage="100mcg", frequency="as needed")


def medication_log(owner, *, med=None):
    from health.models import MedicationLog

    return MedicationLog.objects.create(medication=med or medication(owner), user=owner, scheduled_time=timezone.now(), status="tomado")


def allergy(owner):
    from health.models import Allergy

    return Allergy.objects.create(health_profile=health_profile(owner), user=owner, allergen="Peanuts", type="FOOD")


def medical_appointment(owner):
    from health.models import MedicalAppointment

    return MedicalAppointment.objects.create(health_profile=health_profile(owner), user=owner, scheduled_date=timezone.now())


def health_measurement(owner):
    from health.models import HealthMeasurement

    return HealthMeasurement.objects.create(health_profile=health_profile(owner), user=owner, type="WEIGHT", value={"kg": 70.5})


def financial_profile(owner):
    from finance.models import FinancialProfile

    return FinancialProfile.objects.get_or_create(user=owner)[0]


def financial_account(owner):
    from finance.models import FinancialAccount

    return FinancialAccount.objects.create(financial_profile=financial_profile(owner), user=owner, name="Checking", type="CHECKING")


def transaction(owner, *, account=None, **kw):
    from finance.models import Transaction

    kw.setdefault("type", "expense")
    return Transaction.objects.create(
        financial_profile=financial_profile(owner), user=owner, account=account, date=dt.date.today(),
        description="Coffee", amount=Decimal("3.50"), **kw,
    )


def budget(owner):
    from finance.models import Budget

    return Budget.objects.create(financial_profile=financial_profile(owner), user=owner, name="Food", category="food", amount=Decimal("300"), start_date=dt.date.today())


def debt(owner):
    from finance.models import Debt

    return Debt.objects.create(financial_profile=financial_profile(owner), user=owner, name="Card", type="CREDIT_CARD", principal=Decimal("1000"), balance=Decimal("800"), account_number="4111-1111")


def debt_payment(owner, *, debt_=None):
    from finance.models import DebtPayment

    return DebtPayment.objects.create(debt=debt_ or debt(owner), user=owner, date=dt.date.today(), amount=Decimal("50"), principal_paid=Decimal("40"), interest_paid=Decimal("10"))


def investment(owner):
    from finance.models import Investment

    return Investment.objects.create(financial_profile=financial_profile(owner), user=owner, name="Index fund", type="ETF", quantity=Decimal("3"), purchase_price=Decimal("100"))


def recurring_payment(owner, *, account=None):
    from finance.models import RecurringPayment

    return RecurringPayment.objects.create(
        financial_profile=financial_profile(owner), user=owner, name="Rent", amount=Decimal("900"), next_due_date=dt.date.today(),
        start_date=dt.date.today(), account=account,
    )


def usage_log(owner, *, conv=None, agent_=None, tokens=(10, 20), **kw):
    from metrics.models import UsageLog

    conv = conv if conv is not None else conversation(owner, agent_=agent_)
    return UsageLog.objects.create(
        user=owner, agent=agent_ or conv.agent, conversation=conv, tokens_input=tokens[0], tokens_output=tokens[1],
        total_tokens=sum(tokens), model="offline", total_cost=Decimal("0.001"), **kw,
    )


def monthly_usage(owner):
    from metrics.models import MonthlyUsage

    now = timezone.now()
    return MonthlyUsage.objects.get_or_create(user=owner, year=now.year, month=now.month)[0]


def usage_alert(owner):
    from metrics.models import UsageAlert

    now = timezone.now()
    return UsageAlert.objects.create(user=owner, type="MESSAGES", threshold=80, year=now.year, month=now.month)


def support_ticket(owner):
    from support.models import SupportTicket

    return SupportTicket.objects.create(user=owner, title="Help", description="It broke")


def support_message(owner, *, ticket=None):
    from support.models import SupportMessage

    return SupportMessage.objects.create(ticket=ticket or support_ticket(owner), user=owner, author=owner, content="Details")


def account(owner):
    from accounts.models import Account

    return Account.objects.create(user=owner, provider="github", provider_account_id=str(_n()), access_token="t")


def user_settings(owner):
    from accounts.models import UserSettings

    return UserSettings.objects.get(user=owner)


def rag_settings(owner):
    from rag.models import RagSettings

    return RagSettings.objects.get(user=owner)


def storage_quota(owner):
    from storage.models import StorageQuota

    return StorageQuota.objects.get(user=owner)


def user(**kw):
    from testutils.testing import make_user

    return make_user(**kw)


def auth_session(owner):
    from accounts.models import AuthSession

    return AuthSession.objects.create(user=owner, session_token=secrets.token_hex(32), expires=timezone.now() + dt.timedelta(days=1))


def invitation(owner):
    from accounts.models import Invitation

    return Invitation.objects.create(email=f"invitee{_n()}@example.com", token=secrets.token_hex(32), invited_by=owner, expires_at=timezone.now() + dt.timedelta(days=1))


def audit_log(owner):
    from accounts.models import AuditLog

    return AuditLog.objects.create(admin=owner, action="test.action")


def agent_permission(owner):
    from agents.models import UserAgentPermission

    return UserAgentPermission.objects.create(user=owner, agent=agent(owner), granted_by=owner)


# table -> factory(owner) returning an instance owned by owner
FACTORIES = {
    "accounts": account, "user_settings": user_settings, "chat_sessions": chat_session, "conversations": conversation,
    "messages": message, "artifacts": artifact, "rag_documents": rag_document, "rag_settings": rag_settings,
    "mcp_integrations": integration, "mcp_sync_logs": sync_log, "storage_folders": folder, "storage_files": storage_file,
    "storage_quotas": storage_quota, "file_access_logs": file_access_log, "file_shares": file_share,
    "health_profiles": health_profile, "medical_conditions": medical_condition, "medications": medication,
    "medication_logs": medication_log, "allergies": allergy, "medical_appointments": medical_appointment,
    "health_measurements": health_measurement, "financial_profiles": financial_profile,
    "financial_accounts": financial_account, "transactions": transaction, "budgets": budget, "debts": debt,
    "debt_payments": debt_payment, "investments": investment, "recurring_payments": recurring_payment,
    "usage_logs": usage_log, "monthly_usage": monthly_usage, "usage_alerts": usage_alert,
    "support_tickets": support_ticket, "support_messages": support_message,
    # not tenant tables
    "auth_sessions": auth_session, "invitations": invitation, "audit_logs": audit_log, "agents": agent,
    "user_agent_permissions": agent_permission,
}


def make(table: str, owner):
    with tenant(owner.id):
        return FACTORIES[table](owner)
