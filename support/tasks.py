"""Support's Celery tasks: triage on creation, emails, the escalation beat job. Each takes ids and
calls the module that does the work (imported in the task body)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)

TRIAGE_RETRIES = 3


@shared_task(bind=True, name="support.triage_ticket", max_retries=TRIAGE_RETRIES, acks_late=True, ignore_result=True)
def triage_ticket_task(self, ticket_id: str, user_id: str) -> None:
    from agents.providers import ProviderError

    from .triage import triage_ticket

    try:
        suggestion = triage_ticket(ticket_id=ticket_id, user_id=user_id)
    except ProviderError as exc:
        if self.request.retries < TRIAGE_RETRIES:
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries * 10, 300)) from exc
        logger.warning("triage of ticket %s: the model kept failing (%s); rule-based suggestion", ticket_id,
                       exc.detail or exc)
        suggestion = triage_ticket(ticket_id=ticket_id, user_id=user_id, use_model=False)
    if suggestion is not None and suggestion.priority == "URGENT":
        notify_staff_task.delay(ticket_id, user_id, "urgent")  # a new ticket the triage finds urgent


@shared_task(bind=True, name="support.notify_user", max_retries=3, acks_late=True, ignore_result=True)
def notify_user_task(self, ticket_id: str, user_id: str, kind: str, message_id: str | None = None) -> None:
    from .notifications import notify_user

    try:
        notify_user(ticket_id=ticket_id, user_id=user_id, kind=kind, message_id=message_id)
    except OSError as exc:  # the mail server
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(bind=True, name="support.notify_staff", max_retries=3, acks_late=True, ignore_result=True)
def notify_staff_task(self, ticket_id: str, user_id: str, kind: str) -> None:
    from .notifications import notify_staff

    try:
        notify_staff(ticket_id=ticket_id, user_id=user_id, kind=kind)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(name="support.escalate", ignore_result=True)
def escalate_task() -> int:
    """Beat: escalate breached tickets (committed), then tell staff of each breach."""
    from .escalation import escalate_overdue

    notices = escalate_overdue()
    for ticket_id, user_id, kind in notices:
        notify_staff_task.delay(ticket_id, user_id, kind)
    return len(notices)


@shared_task(name="support.triage_pending", ignore_result=True)
def triage_pending_task() -> int:
    """Beat: send the triage again for recent tickets still without a suggestion (the broker was
    down when they were opened, or a worker died); the triage itself writes a suggestion once."""
    from .triage import tickets_awaiting_triage

    pending = tickets_awaiting_triage()
    for ticket_id, user_id in pending:
        triage_ticket_task.delay(ticket_id, user_id)
    return len(pending)
