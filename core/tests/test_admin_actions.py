"""Admin actions state their permission and run only for roles with change rights; bad parameters
in admin URLs never end in a server error; the admin bypass audit names what was opened."""

import re
import uuid

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts import roles
from accounts.models import AuditLog, User
from core.tenancy import TENANT_TABLES, tenant
from testutils import factories
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
ROLES = ["SUPER_ADMIN", "ADMIN", "SUPPORT", "USER"]


def _ids(item):
    return item[0]._meta.label


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _row(model, owner):
    table = model._meta.db_table
    if table in TENANT_TABLES:
        return factories.make(table, owner)
    if table in factories.FACTORIES:
        return factories.FACTORIES[table](owner)
    return None


def _snapshot(model, pk, owner):
    """The stored row as the database has it (ciphertext included), read in the owner's context."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.pk.column)
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t WHERE {column} = %s", [pk])
        return cursor.fetchall()


def _offered_actions(html: str) -> set[str]:
    select = re.search(r'<select name="action"[^>]*>(.*?)</select>', html, re.S)
    return set(re.findall(r'<option value="([^"]+)"', select.group(1))) if select else set()


def _has_write_right(role: str, model) -> bool:
    opts = model._meta
    return any(roles.allows(role, f"{opts.app_label}.{verb}_{opts.model_name}") for verb in ("change", "delete"))


@pytest.mark.parametrize("item", ADMINS, ids=_ids)
def test_every_action_declares_the_permission_it_needs(item, staff):
    model, model_admin = item
    request = RequestFactory().get("/admin/")
    request.user = make_user("root-declare@example.com", role="SUPER_ADMIN")
    for name, (func, _name, _description) in model_admin.get_actions(request).items():
        declared = set(getattr(func, "allowed_permissions", ()) or ())
        assert declared, f"{model._meta.label}: action {name!r} declares no permission"
        assert declared <= {"add", "change", "delete"}, (name, declared)  # write rights, never "view"


@pytest.mark.parametrize("item", ADMINS, ids=_ids)
@pytest.mark.parametrize("role", ROLES)
def test_actions_are_offered_and_run_only_for_roles_with_change_rights(item, role, owner):
    model, model_admin = item
    user = make_user(f"{role.lower()}-actor@example.com", role=role)
    client = client_for(user)
    page = client.get(_url(model, "changelist"))
    if role == "USER":
        assert page.status_code == 302 and "/login/" in page["Location"]
    elif not roles.allows_module(role, model._meta.app_label) or not roles.allows(role, f"{model._meta.app_label}.view_{model._meta.model_name}"):
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        offered = _offered_actions(page.content.decode())
        if not _has_write_right(role, model):
            assert offered == set(), f"{role} is offered {offered} on {model._meta.label}"
    # Every declared action, posted by hand on a real row, changes nothing for a role without rights.
    row = _row(model, owner)
    if row is None or _has_write_right(role, model):
        return
    before = _snapshot(model, row.pk, owner)
    audit_before = AuditLog.objects.exclude(action="rls.bypass").count()
    for name in model_admin.actions or []:
        response = client.post(_url(model, "changelist"), {"action": name, "_selected_action": [str(row.pk)], "post": "yes"})
        assert response.status_code in (200, 302, 403), (name, response.status_code)
    response = client.post(_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"})
    assert response.status_code in (200, 302, 403)
    assert _snapshot(model, row.pk, owner) == before
    assert AuditLog.objects.exclude(action="rls.bypass").count() == audit_before


def test_support_cannot_soft_delete_restore_or_revoke(owner):
    from accounts import services
    from accounts.models import Invitation

    support = client_for(make_user("helper@example.com", role="SUPPORT"))
    target = make_user("an-admin@example.com", role="ADMIN")
    support.post("/admin/accounts/user/", {"action": "soft_delete", "_selected_action": [str(target.pk), str(owner.pk)]})
    assert User.objects.filter(pk__in=[target.pk, owner.pk], deleted_at__isnull=True).count() == 2
    gone = make_user("gone@example.com")
    services.user_soft_delete(user=gone)
    support.post("/admin/accounts/user/", {"action": "restore", "_selected_action": [str(gone.pk)]})
    assert User.objects.get(pk=gone.pk).deleted_at is not None
    issued = services.invitation_create(invited_by=target, email="invitee@example.com")
    support.post("/admin/accounts/invitation/", {"action": "revoke", "_selected_action": [str(issued.invitation.pk)]})
    assert Invitation.objects.get(pk=issued.invitation.pk).status == issued.invitation.status


def test_admin_and_support_run_the_actions_their_role_allows(staff_client, owner):
    from support.models import TicketStatus

    ticket = factories.make("support_tickets", owner)
    support = client_for(make_user("helper@example.com", role="SUPPORT"))
    assert support.post("/admin/support/supportticket/", {"action": "mark_resolved", "_selected_action": [str(ticket.pk)]}).status_code == 302
    with tenant(owner.id):
        ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    assert "soft_delete" in _offered_actions(staff_client.get("/admin/accounts/user/").content.decode())


# --- item 8: bad parameters never end in a server error -----------------------------------------


def _filter_params(model_admin, user) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    params = {p for spec in changelist.filter_specs for p in spec.expected_parameters()}
    if model_admin.date_hierarchy:
        params |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    return params


@pytest.mark.parametrize("item", ADMINS, ids=_ids)
def test_bad_parameters_never_end_in_a_server_error(item, staff, staff_client):
    model, model_admin = item
    changelist = _url(model, "changelist")
    queries = ["q=%00", "q=a%00b", "p=99999999999999999999", "p=%00", "o=%00", "o=999", "%00=1", "e=%00", "q=" + "x" * 5000]
    for param in sorted(_filter_params(model_admin, staff)):
        queries += [f"{param}=%00", f"{param}=not-a-value", f"{param}=99999999"]
    for query in queries:
        response = staff_client.get(f"{changelist}?{query}", follow=True)
        assert response.status_code < 500, (query, response.status_code)
        assert all(status < 500 for _url_, status in response.redirect_chain), query
        assert response.status_code == 200, (query, response.status_code)
    for bad_id in ("%00", "a%00b", "not-an-id", str(uuid.uuid4()), "9" * 30):
        for view in ("change", "delete", "history"):
            response = staff_client.get(changelist + f"{bad_id}/{view}/")
            assert response.status_code in (302, 403, 404), (bad_id, view, response.status_code)
    assert staff_client.get(changelist + "%00/change/").status_code == 404
    # An action posted with malformed ids (the admin filters pk__in with them as they come).
    for name in [*(model_admin.actions or []), "delete_selected"]:
        for bad_id in ("\x00", "not-an-id", "9" * 30):
            response = staff_client.post(changelist, {"action": name, "_selected_action": [bad_id]})
            assert response.status_code < 500, (name, bad_id, response.status_code)


def test_nul_in_the_user_search_and_filters_shows_the_list(staff_client, owner):
    response = staff_client.get("/admin/accounts/user/?q=%00&role=%00", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0] == "/admin/accounts/user/?q=&role="
    assert staff_client.get("/admin/autocomplete/?app_label=agents&model_name=agent&field_name=created_by&term=%00", follow=True).status_code == 200


# --- item 14: the bypass audit names what staff opened ------------------------------------------


def test_bypass_audit_names_the_model_object_and_view(staff_client, staff, owner):
    start = AuditLog.objects.count()
    assert staff_client.get(f"/admin/accounts/user/{owner.pk}/change/").status_code == 200
    row = AuditLog.objects.filter(action="rls.bypass", admin=staff).order_by("-timestamp").first()
    assert AuditLog.objects.count() > start
    assert (row.target_type, row.target_id) == ("users", owner.pk)
    assert row.details["model"] == "accounts.user" and row.details["view"] == "change" and row.details["method"] == "GET"
    assert row.details["object_id"] == str(owner.pk)
    assert str(owner.pk) in staff_client.get("/admin/accounts/auditlog/").content.decode()


def test_bypass_audit_names_the_action_and_rows_changed(staff_client, staff, owner):
    conversation = factories.make("conversations", owner)
    staff_client.get(f"/admin/chats/conversation/{conversation.pk}/change/")
    opened = AuditLog.objects.filter(action="rls.bypass", admin=staff, target_type="conversations").get()
    assert opened.target_id == conversation.pk
    staff_client.post("/admin/accounts/user/", {"action": "soft_delete", "_selected_action": [str(owner.pk)]})
    changed = AuditLog.objects.filter(action="rls.bypass", admin=staff, details__action="soft_delete").get()
    assert (changed.target_type, changed.target_id) == ("users", owner.pk)
    assert changed.details["selected"] == [str(owner.pk)] and changed.details["method"] == "POST"
    staff_client.get("/admin/chats/message/")
    assert AuditLog.objects.filter(action="rls.bypass", admin=staff, target_type="messages", details__view="changelist").exists()


def test_bypass_audit_of_a_nul_url_is_stored_clean(staff_client, staff):
    assert staff_client.get("/admin/accounts/user/%00/change/").status_code == 404
    row = AuditLog.objects.filter(action="rls.bypass", admin=staff).order_by("-timestamp").first()
    assert "\x00" not in row.details["reason"] and row.target_id is None
