"""A ticket's SLA state for the queue: met, on track, at risk (a quarter of the time left) or breached."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import TicketStatus

AT_RISK_SHARE = 0.25
LABELS = {
    "breached": _("Breached"), "at_risk": _("At risk"), "on_track": _("On track"), "met": _("Met"), "none": _("—"),
}


@dataclass(frozen=True)
class SlaState:
    key: str

    @property
    def label(self):
        return LABELS[self.key]


def _against(start, due, now) -> str:
    if due is None:
        return "none"
    if now > due:
        return "breached"
    total = (due - start).total_seconds()
    left = (due - now).total_seconds()
    return "at_risk" if total > 0 and left / total <= AT_RISK_SHARE else "on_track"


def sla_state(ticket, *, now=None) -> SlaState:
    now = now or timezone.now()
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ended = ticket.resolved_at or ticket.closed_at
        late = ticket.resolution_due_at and ended and ended > ticket.resolution_due_at
        return SlaState("breached" if late else "met")
    if ticket.first_response_at is None:
        state = _against(ticket.created_at, ticket.response_due_at, now)
        if state != "on_track":
            return SlaState(state)
    return SlaState(_against(ticket.created_at, ticket.resolution_due_at, now))
