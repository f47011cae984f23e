"""Finance in the admin: staff read through the audited bypass, balances and computed columns are
read-only, account numbers masked, the tables beyond the ERD shown read-only; support sees nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from core.tenancy import tenant
from finance import budget_alerts, imports, services
from finance.models import FinancialAccount
from testutils.testing import client_for, make_user

from .helpers import account, expense, profile

pytestmark = pytest.mark.django_db


def test_staff_read_every_finance_table_through_the_audited_bypass(owner):
    p = profile(owner)
    acc = account(p, opening=Decimal("10"))
    expense(p, acc, "60", category="Food")
    services.rate_set(p, currency="EUR", date=dt.date.today(), rate=Decimal("1.2"))
    services.budget_save(p, name="Food", category="Food", amount=Decimal("50"), period="MONTHLY", start_date=dt.date.today().replace(day=1),
                         end_date=None, alert_threshold=80)
    budget_alerts.check_user(owner.id)
    from django.core.files.uploadedfile import SimpleUploadedFile

    imports.preview_create(p, account=acc, upload=SimpleUploadedFile("a.csv", b"Date,Description,Amount\n2024-01-01,x,-1\n"), source="CSV",
                           mapping={"date": "Date", "description": "Description", "amount": "Amount"})
    admin_client = client_for(make_user("fin-admin@example.com", role="ADMIN"))
    with tenant(owner.id):
        rows = {
            "category": p.categories.first(), "exchangerate": p.exchange_rates.first(), "importbatch": p.imports.first(),
            "importmapping": p.import_mappings.first(), "financealert": p.alerts.first(), "financialaccount": acc,
        }
    for model_name, row in rows.items():
        response = admin_client.get(reverse(f"admin:finance_{model_name}_change", args=[row.pk]))
        assert response.status_code == 200, model_name
        assert AuditLog.objects.filter(target_id=row.pk).exists(), model_name
    # The balance is shown, not editable; posting a balance changes nothing.
    html = admin_client.get(reverse("admin:finance_financialaccount_change", args=[acc.pk])).content.decode()
    assert 'name="balance"' not in html and "-50.000" in html
    support = client_for(make_user("fin-support@example.com", role="SUPPORT"))
    for model_name, row in rows.items():
        assert support.get(reverse(f"admin:finance_{model_name}_change", args=[row.pk])).status_code == 403
    with tenant(owner.id):
        assert FinancialAccount.objects.get(pk=acc.pk).balance == Decimal("-50")
