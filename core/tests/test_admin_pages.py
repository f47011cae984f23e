"""Every admin page answers for staff; health data has no admin; encrypted values stay masked."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.tenancy import TENANT_TABLES
from testutils import factories

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def test_health_models_are_not_in_the_admin():
    assert not [m for m in MODELS if m._meta.app_label == "health"]


def test_every_domain_model_but_health_is_in_the_admin():
    from django.apps import apps

    expected = {
        m for app in ("accounts", "agents", "chats", "artifacts", "rag", "integrations", "storage", "finance", "metrics", "support")
        for m in apps.get_app_config(app).get_models()
        if m._meta.db_table != "verification_tokens" and m._meta.managed  # rag_vectors belongs to its store
    }
    assert expected <= set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_change_pages(staff_client, owner, model):
    table = model._meta.db_table
    row = factories.make(table, owner) if table in TENANT_TABLES else None
    if row is None and table in factories.FACTORIES:
        row = factories.FACTORIES[table](owner)
    opts = model._meta
    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    if row is not None:
        change = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        assert change.status_code == 200
        html = change.content.decode()
        assert "enc:v1:" not in html and '"kid"' not in html


def test_encrypted_finance_and_integration_values_are_masked(staff_client, owner):
    debt = factories.make("debts", owner)
    integration = factories.make("mcp_integrations", owner)
    for url in (
        reverse("admin:finance_debt_change", args=[debt.pk]),
        reverse("admin:finance_debt_changelist"),
        reverse("admin:integrations_mcpintegration_change", args=[integration.pk]),
    ):
        html = staff_client.get(url).content.decode()
        assert "4111-1111" not in html and ">tok<" not in html and "••••••" in html


def test_support_staff_see_tickets_but_not_finance(owner):
    from testutils.testing import client_for, make_user

    support = client_for(make_user("helper@example.com", role="SUPPORT"))
    ticket = factories.make("support_tickets", owner)
    assert support.get(reverse("admin:support_supportticket_change", args=[ticket.pk])).status_code == 200
    assert support.get(reverse("admin:finance_transaction_changelist")).status_code == 403


# --- every admin page, for every role ------------------------------------------------------------

# What each role may open, stated here rather than derived from the code under test:
# SUPER_ADMIN and ADMIN every page (ADMIN only reads allauth's identity records), SUPPORT the
# audit log (read; of the other accounts pages nothing: a user's full record is not theirs to see)
# and support (read, add, change), USER nothing (sent to log in).
IDENTITY_APPS = {"account", "socialaccount", "mfa"}
SUPPORT_VIEW = {"accounts", "support"}
SUPPORT_WRITE = {"support"}


def _expected_changelist(role: str, app_label: str, model_name: str = "") -> int:
    if role == "USER":
        return 302
    if role == "SUPPORT":
        if app_label == "accounts":
            return 200 if model_name == "auditlog" else 403
        return 200 if app_label in SUPPORT_VIEW else 403
    return 200


def _may_add(role: str, app_label: str) -> bool:
    if role == "SUPER_ADMIN":
        return True
    if role == "ADMIN":
        return app_label not in IDENTITY_APPS
    return role == "SUPPORT" and app_label in SUPPORT_WRITE


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "ADMIN", "SUPPORT", "USER"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_each_role_opens_exactly_the_admin_pages_its_role_allows(role, model, owner):
    from testutils.testing import client_for, make_user

    client = client_for(make_user(f"{role.lower()}-pages@example.com", role=role))
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == _expected_changelist(role, opts.app_label, opts.model_name)
    if role == "USER":
        assert "/login/" in changelist["Location"]
    add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    if add.status_code == 200:  # some admins never add (logs, rows created with their user)
        assert _may_add(role, opts.app_label), f"{role} may add {opts.label}"
    else:
        assert add.status_code in (302, 403)
    index = client.get(reverse("admin:index"))
    assert index.status_code == (302 if role == "USER" else 200)
    if role != "USER":
        listed = f'href="/admin/{opts.app_label}/{opts.model_name}/"' in index.content.decode()
        assert listed == (changelist.status_code == 200)
