import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import override_settings

from core.tenancy import tenant
from support.business_hours import add_business_hours, business_hours_between

HOURS = {"SUPPORT_WORKING_DAYS": (1, 2, 3, 4, 5), "SUPPORT_WORKING_HOURS": (8, 18), "SUPPORT_TIMEZONE": "Europe/Madrid"}
ZONE = ZoneInfo("Europe/Madrid")


def at(day, hour, minute=0):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=ZONE)


@override_settings(**HOURS)
@pytest.mark.parametrize("start,hours,due", [
    (at(4, 17), 4, at(7, 11)),   # Friday 17:00 + 4 h -> Monday 11:00
    (at(5, 10), 4, at(7, 12)),   # Saturday 10:00 + 4 h -> Monday 12:00
    (at(7, 6), 1, at(7, 9)),     # before opening counts from opening
    (at(7, 9), 10, at(8, 9)),    # a whole working day spans the night
    (at(7, 18), 0.5, at(8, 8, 30)),
])
def test_business_hours_vector(start, hours, due):
    assert add_business_hours(start, hours) == due
    assert business_hours_between(start, due) == pytest.approx(hours)


@override_settings(**HOURS, SUPPORT_HOLIDAYS=("2026-12-07",))
def test_holidays_are_skipped():
    assert add_business_hours(at(4, 17), 4) == at(8, 11)


@pytest.mark.django_db
@override_settings(SUPPORT_STAFF_EMAILS=())
def test_escalation_twice_changes_nothing_more(owner, django_capture_on_commit_callbacks):
    from accounts.models import AuditLog
    from support import services
    from support.escalation import escalate_overdue
    from support.models import SupportTicket
    from support.tasks import escalate_task
    from testutils.testing import make_user

    make_user("agent@example.com", role="SUPPORT")
    with tenant(owner.id):
        ticket = services.ticket_create(user=owner, title="Help", description="It broke")
        SupportTicket.objects.filter(pk=ticket.pk).update(response_due_at=ticket.created_at - dt.timedelta(minutes=1))
        answered = services.ticket_create(user=owner, title="Answered", description="ok")
        SupportTicket.objects.filter(pk=answered.pk).update(
            response_due_at=ticket.created_at - dt.timedelta(minutes=1), first_response_at=ticket.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_task() == 1
    with tenant(owner.id):
        first = SupportTicket.objects.get(pk=ticket.pk)
        untouched = SupportTicket.objects.get(pk=answered.pk)
    assert first.priority == "HIGH" and untouched.priority == "MEDIUM"
    assert len(mail.outbox) == 1 and "T-" in mail.outbox[0].subject and mail.outbox[0].to == ["agent@example.com"]
    audit = AuditLog.objects.filter(action="support.escalate").count()
    assert audit == 1
    assert escalate_overdue() == []
    with tenant(owner.id):
        again = SupportTicket.objects.get(pk=ticket.pk)
    assert again.priority == "HIGH" and again.metadata == first.metadata
    assert AuditLog.objects.filter(action="support.escalate").count() == 1 and len(mail.outbox) == 1
