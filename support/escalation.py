"""The escalation beat job: tickets past their targets, counted in business hours.

A ticket with no first staff response past ``response_due_at`` goes up one priority step (URGENT
stays URGENT) and its assignee (else the staff list) is told; one past ``resolution_due_at`` while
still open is reported once. Each breach is marked in ``metadata["breaches"]`` with the due time it
broke, so running the job again changes nothing more; a new due time (a reopened ticket) can breach
again.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from accounts.services import audit_log_record
from core.tenancy import bypass

from .models import OPEN_STATUSES, PRIORITY_ORDER, SupportTicket, TicketStatus

logger = logging.getLogger(__name__)

BATCH = 500


def step_up(priority: str) -> str:
    index = PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 1
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


def _mark(ticket: SupportTicket, kind: str) -> str | None:
    return ((ticket.metadata or {}).get("breaches") or {}).get(kind)


def escalate_overdue(*, now=None) -> list[tuple[str, str, str]]:
    """Escalate what breached since the last run; returns who to tell: [(ticket id, owner id, kind)],
    kind "escalated" (response target) or "overdue" (resolution target)."""
    now = now or timezone.now()
    done = {"response": 0, "resolution": 0}
    notices: list[tuple[str, str, str]] = []
    with bypass("support escalation"):
        waiting_for_staff = [s for s in OPEN_STATUSES if s != TicketStatus.WAITING]
        response = list(SupportTicket.objects.select_for_update(skip_locked=True).filter(
            status__in=waiting_for_staff, first_response_at__isnull=True, response_due_at__lt=now,
        ).order_by("response_due_at")[:BATCH])
        for ticket in response:
            due = ticket.response_due_at.isoformat()
            if _mark(ticket, "response") == due:
                continue
            metadata = dict(ticket.metadata or {})
            new_priority = step_up(ticket.priority)
            metadata["breaches"] = {**(metadata.get("breaches") or {}), "response": due}
            # The due times stay those of the breach (the mark names them): the new priority's
            # targets would already be past and re-mark nothing.
            SupportTicket.objects.filter(pk=ticket.pk).update(priority=new_priority, metadata=metadata)
            audit_log_record(actor=None, action="support.escalate", target_type="support_tickets", target_id=ticket.pk,
                             details={"ticket": ticket.ticket_number, "before": ticket.priority, "after": new_priority,
                                      "breach": "response", "due": due})
            notices.append((str(ticket.pk), str(ticket.user_id), "escalated"))
            done["response"] += 1
        resolution = list(SupportTicket.objects.select_for_update(skip_locked=True).filter(
            status__in=OPEN_STATUSES, resolution_due_at__lt=now,
        ).order_by("resolution_due_at")[:BATCH])
        for ticket in resolution:
            due = ticket.resolution_due_at.isoformat()
            ticket.refresh_from_db(fields=["metadata"])
            if _mark(ticket, "resolution") == due:
                continue
            metadata = dict(ticket.metadata or {})
            metadata["breaches"] = {**(metadata.get("breaches") or {}), "resolution": due}
            SupportTicket.objects.filter(pk=ticket.pk).update(metadata=metadata)
            audit_log_record(actor=None, action="support.overdue", target_type="support_tickets", target_id=ticket.pk,
                             details={"ticket": ticket.ticket_number, "breach": "resolution", "due": due})
            notices.append((str(ticket.pk), str(ticket.user_id), "overdue"))
            done["resolution"] += 1
    if any(done.values()):
        logger.info("support escalation: %s", done)
    return notices
