"""The escalation beat job: tickets past their targets, counted in business hours.

A ticket with no first staff response past ``response_due_at`` goes up one priority step (URGENT
stays URGENT) and its assignee (else the staff list) is told; one past ``resolution_due_at`` while
still open is reported once. Each breach is marked in ``metadata["breaches"]`` with the due time it
broke (epoch seconds), and the queries leave marked breaches out, so running the job again changes
nothing more; a new due time (a reopened ticket, a priority changed by staff) can breach again.
"""

from __future__ import annotations

import logging

from django.db.models import BooleanField, ExpressionWrapper
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.services import audit_log_record
from core.tenancy import bypass

from .models import OPEN_STATUSES, PRIORITY_ORDER, SupportTicket, TicketStatus

logger = logging.getLogger(__name__)

BATCH = 500
_MARKED_SQL = ("coalesce((metadata #>> '{breaches,%(kind)s}') = "
               "floor(extract(epoch FROM %(column)s))::bigint::text, false)")


def step_up(priority: str) -> str:
    index = PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 1
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


def _unmarked(queryset, *, kind: str, column: str):
    marked = ExpressionWrapper(RawSQL(_MARKED_SQL % {"kind": kind, "column": column}, []), output_field=BooleanField())
    return queryset.alias(marked=marked).filter(marked=False)


def _mark(ticket: SupportTicket, kind: str, due) -> dict:
    metadata = dict(ticket.metadata or {})
    metadata["breaches"] = {**(metadata.get("breaches") or {}), kind: str(int(due.timestamp()))}
    return metadata


def _batches(queryset, order: str):
    """Rows of ``queryset`` in batches; each batch is marked before the next query leaves it out."""
    while True:
        batch = list(queryset.select_for_update(skip_locked=True).order_by(order)[:BATCH])
        if not batch:
            return
        yield batch


def escalate_overdue(*, now=None) -> list[tuple[str, str, str]]:
    """Escalate what breached since the last run; returns who to tell: [(ticket id, owner id, kind)],
    kind "escalated" (response target) or "overdue" (resolution target)."""
    now = now or timezone.now()
    notices: list[tuple[str, str, str]] = []
    with bypass("support escalation"):
        waiting_for_staff = [s for s in OPEN_STATUSES if s != TicketStatus.WAITING]
        response = _unmarked(SupportTicket.objects.filter(
            status__in=waiting_for_staff, first_response_at__isnull=True, response_due_at__lt=now,
        ), kind="response", column="response_due_at")
        for batch in _batches(response, "response_due_at"):
            for ticket in batch:
                new_priority = step_up(ticket.priority)
                # The due times stay those of the breach (the mark names them).
                SupportTicket.objects.filter(pk=ticket.pk).update(
                    priority=new_priority, metadata=_mark(ticket, "response", ticket.response_due_at))
                audit_log_record(actor=None, action="support.escalate", target_type="support_tickets",
                                 target_id=ticket.pk, details={
                                     "ticket": ticket.ticket_number, "before": ticket.priority, "after": new_priority,
                                     "breach": "response", "due": ticket.response_due_at.isoformat()})
                notices.append((str(ticket.pk), str(ticket.user_id), "escalated"))
        resolution = _unmarked(SupportTicket.objects.filter(status__in=OPEN_STATUSES, resolution_due_at__lt=now),
                               kind="resolution", column="resolution_due_at")
        for batch in _batches(resolution, "resolution_due_at"):
            for ticket in batch:
                SupportTicket.objects.filter(pk=ticket.pk).update(
                    metadata=_mark(ticket, "resolution", ticket.resolution_due_at))
                audit_log_record(actor=None, action="support.overdue", target_type="support_tickets",
                                 target_id=ticket.pk, details={
                                     "ticket": ticket.ticket_number, "breach": "resolution",
                                     "due": ticket.resolution_due_at.isoformat()})
                notices.append((str(ticket.pk), str(ticket.user_id), "overdue"))
    if notices:
        logger.info("support escalation: %s tickets", len(notices))
    return notices
