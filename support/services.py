"""Writes of the support domain: tickets and messages by their owner, staff work from the admin,
help articles. Each write is one transaction; emails and the AI triage are queued on commit.

Users act inside their own tenant context (the request's); staff act in the admin, whose requests
run under the audited bypass (``core.tenancy.TenantMiddleware``), and every staff action also
writes its own ``audit_logs`` row (``support.<verb>``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_log_record
from core import queue
from core.text import strip_control_chars
from storage import services as storage_services
from storage.errors import DuplicateFile
from storage.models import StorageFile, UsageContext
from storage.uploads import SNIFF_BYTES, sniff_type

from . import conf, helpcentre, tasks
from .business_hours import add_business_hours
from .errors import AttachmentRefused, SupportError
from .models import (
    OPEN_STATUSES,
    AIDecision,
    CannedReply,
    HelpArticle,
    Priority,
    SupportMessage,
    SupportTicket,
    TicketCategory,
    TicketStatus,
)
from .suggestions import suggestion_of

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
MESSAGE_MAX = 10_000
RATING_RANGE = range(1, 6)
# Staff may choose these assignees (the role's right to work tickets in the admin).
ASSIGNABLE_ROLES = ("SUPPORT", "ADMIN", "SUPER_ADMIN")


# --- validation -------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = " ".join(strip_control_chars(title or "").split())
    if not title:
        raise SupportError(_("Give your ticket a title."))
    if len(title) > TITLE_MAX:
        raise SupportError(_("Keep the title under %(count)s characters.") % {"count": TITLE_MAX})
    return title


def _clean_body(text: str, *, limit: int, empty_message: str) -> str:
    text = strip_control_chars(text or "").strip()
    if not text:
        raise SupportError(empty_message)
    if len(text) > limit:
        raise SupportError(_("This text is too long: keep it under %(count)s characters (it has %(length)s).")
                           % {"count": f"{limit:,}", "length": f"{len(text):,}"})
    return text


@dataclass(frozen=True)
class Upload:
    """An attachment as received: its name, bytes and the browser's type (never trusted)."""

    name: str
    data: bytes


def uploads_from(files) -> list[Upload]:
    """Read uploaded files (at most one byte past the limit each: the size check needs no more)."""
    limit = conf.max_attachment_bytes()
    return [Upload(name=f.name or "", data=f.read(limit + 1)) for f in files if f is not None]


def _check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Each upload with its sniffed type, or ``AttachmentRefused`` before anything is stored."""
    if len(uploads) > conf.max_attachments():
        raise AttachmentRefused(_("Attach at most %(count)s files to one message.") % {"count": conf.max_attachments()})
    checked = []
    for upload in uploads:
        if len(upload.data) > conf.max_attachment_bytes():
            raise AttachmentRefused(_("“%(name)s” is too large. The limit is %(limit)s per file.")
                                    % {"name": upload.name, "limit": filesizeformat(conf.max_attachment_bytes())})
        if not upload.data:
            raise AttachmentRefused(_("“%(name)s” is empty.") % {"name": upload.name})
        mime = sniff_type(upload.data[:SNIFF_BYTES], upload.name)
        if mime not in conf.attachment_types():
            raise AttachmentRefused(_("“%(name)s” is a kind of file support does not accept. Attach images, PDF, "
                                      "text, CSV, JSON or ZIP files.") % {"name": upload.name})
        checked.append((upload, mime))
    return checked


def _store_uploads(user, checked: list[tuple[Upload, str]]) -> list[dict]:
    """Store the attachments in the user's files (usage context SUPPORT) and describe them."""
    stored = []
    for upload, mime in checked:
        try:
            file = storage_services.file_store(user=user, content=upload.data, name=upload.name, mime_type=mime,
                                               usage_context=UsageContext.SUPPORT)
        except DuplicateFile:
            # The same content is already among the user's files: the ticket points to it.
            digest = hashlib.sha256(upload.data).hexdigest()
            file = StorageFile.objects.filter(user=user, checksum=digest, deleted_at__isnull=True).first()
            if file is None:
                raise
        stored.append({"file_id": str(file.id), "name": file.original_name, "size": file.size, "mime": file.mime_type})
    return stored


# --- tickets by their owner ---------------------------------------------------------------------------


def _due_times(created_at: dt.datetime, priority: str) -> tuple[dt.datetime, dt.datetime]:
    return (add_business_hours(created_at, conf.response_hours()[priority]),
            add_business_hours(created_at, conf.resolution_hours()[priority]))


@transaction.atomic
def ticket_create(*, user, title: str, description: str, category: str = TicketCategory.OTHER,
                  uploads: list[Upload] = ()) -> SupportTicket:
    title = _clean_title(title)
    description = _clean_body(description, limit=DESCRIPTION_MAX, empty_message=_("Describe what you need help with."))
    if category not in TicketCategory.values:
        raise SupportError(_("Choose one of the categories."))
    checked = _check_uploads(list(uploads))
    attachments = _store_uploads(user, checked)
    now = timezone.now()
    response_due, resolution_due = _due_times(now, Priority.MEDIUM)
    ticket = SupportTicket.objects.create(
        user=user, title=title, description=description, category=category, priority=Priority.MEDIUM,
        status=TicketStatus.OPEN, response_due_at=response_due, resolution_due_at=resolution_due,
        last_activity_at=now, metadata={"attachments": attachments} if attachments else {},
    )
    ticket.refresh_from_db(fields=["ticket_number"])
    queue.enqueue_on_commit(tasks.triage_ticket_task, str(ticket.id), str(user.id))  # swept if lost
    return ticket


def _refuse_if_closed(ticket: SupportTicket) -> None:
    if ticket.status == TicketStatus.CLOSED:
        raise SupportError(_("This ticket is closed. Reopen it to write again, or open a new ticket."))


@transaction.atomic
def message_post_by_user(*, user, ticket: SupportTicket, content: str, uploads: list[Upload] = ()) -> SupportMessage:
    ticket = _locked(ticket)
    if ticket.user_id != user.id:
        raise SupportError(_("This ticket is not yours."))
    _refuse_if_closed(ticket)
    content = _clean_body(content, limit=MESSAGE_MAX, empty_message=_("Write a message first."))
    attachments = _store_uploads(user, _check_uploads(list(uploads)))
    message = SupportMessage.objects.create(ticket=ticket, user=user, author=user, content=content,
                                            attachments=attachments)
    updates = {"last_activity_at": message.created_at, "updated_at": timezone.now()}
    if ticket.status in (TicketStatus.WAITING, TicketStatus.RESOLVED):
        updates.update(status=TicketStatus.OPEN, resolved_at=None)  # the user answered: back in the queue
    SupportTicket.objects.filter(pk=ticket.pk).update(**updates)
    return message


def _locked(ticket: SupportTicket) -> SupportTicket:
    """The ticket's current row, locked for this transaction (two presses cannot both pass a check)."""
    return SupportTicket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def ticket_close(*, user, ticket: SupportTicket) -> SupportTicket:
    ticket = _locked(ticket)
    if ticket.status == TicketStatus.CLOSED:
        return ticket
    now = timezone.now()
    SupportTicket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED, closed_at=now, last_activity_at=now,
                                                      resolved_at=ticket.resolved_at or now, updated_at=now)
    ticket.refresh_from_db()
    return ticket


def reopen_deadline(ticket: SupportTicket) -> dt.datetime | None:
    ended = ticket.closed_at or ticket.resolved_at
    return ended + dt.timedelta(days=conf.reopen_days()) if ended else None


@transaction.atomic
def ticket_reopen(*, user, ticket: SupportTicket) -> SupportTicket:
    ticket = _locked(ticket)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise SupportError(_("This ticket is still open."))
    deadline = reopen_deadline(ticket)
    if deadline is not None and timezone.now() > deadline:
        raise SupportError(_("Tickets can be reopened for %(days)s days after they end. Open a new ticket instead.")
                           % {"days": conf.reopen_days()})
    now = timezone.now()
    response_due, resolution_due = _due_times(now, ticket.priority)
    SupportTicket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.OPEN, resolved_at=None, closed_at=None, ai_resolved=False, last_activity_at=now,
        response_due_at=response_due, resolution_due_at=resolution_due, updated_at=now,
    )
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_rate(*, user, ticket: SupportTicket, rating: int) -> SupportTicket:
    ticket = _locked(ticket)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise SupportError(_("You can rate the answer once the ticket is resolved."))
    if rating not in RATING_RANGE:
        raise SupportError(_("Choose a rating from 1 to 5."))
    SupportTicket.objects.filter(pk=ticket.pk).update(rating=rating, updated_at=timezone.now())
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_accept_ai_answer(*, user, ticket: SupportTicket, message_id) -> SupportTicket:
    """The user marks an AI-drafted answer as what solved it: resolved, ``ai_resolved`` set."""
    ticket = _locked(ticket)
    _refuse_if_closed(ticket)
    if not SupportMessage.objects.filter(pk=message_id, ticket=ticket, is_ai=True, is_internal=False).exists():
        raise SupportError(_("Only an answer drafted by the assistant can be marked this way."))
    now = timezone.now()
    SupportTicket.objects.filter(pk=ticket.pk).update(status=TicketStatus.RESOLVED, resolved_at=now, ai_resolved=True,
                                                      last_activity_at=now, updated_at=now)
    ticket.refresh_from_db()
    return ticket


# --- staff work (admin) ---------------------------------------------------------------------------------


def _audit(actor, action: str, ticket: SupportTicket, **details) -> None:
    audit_log_record(actor=actor, action=f"support.{action}", target_type="support_tickets", target_id=ticket.pk,
                     details={"ticket": ticket.ticket_number, **details})


def assignable_staff():
    return get_user_model().objects.filter(role__in=ASSIGNABLE_ROLES, deleted_at__isnull=True).order_by("name", "email")


def _notify_user_on_commit(ticket: SupportTicket, *, kind: str, message_id=None) -> None:
    queue.enqueue_on_commit(tasks.notify_user_task, str(ticket.id), str(ticket.user_id), kind,
                            str(message_id) if message_id else None)


def _notify_staff_on_commit(ticket: SupportTicket, *, kind: str) -> None:
    queue.enqueue_on_commit(tasks.notify_staff_task, str(ticket.id), str(ticket.user_id), kind)


@transaction.atomic
def staff_reply(*, actor, ticket: SupportTicket, content: str, internal: bool = False, is_ai: bool = False,
                status: str | None = None) -> SupportMessage:
    """A staff answer (emailed to the user) or an internal note (never shown to the user)."""
    ticket = _locked(ticket)
    _refuse_if_closed(ticket)
    content = _clean_body(content, limit=MESSAGE_MAX, empty_message=_("Write a reply first."))
    message = SupportMessage.objects.create(ticket=ticket, user_id=ticket.user_id, author=actor, content=content,
                                            is_staff=True, is_ai=is_ai and not internal, is_internal=internal)
    now = timezone.now()
    updates: dict = {"updated_at": now}
    if not internal:
        updates["last_activity_at"] = message.created_at
        if ticket.first_response_at is None:
            updates["first_response_at"] = message.created_at
        new_status = status or (TicketStatus.WAITING if ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
                                else ticket.status)
        if new_status != ticket.status:
            updates["status"] = new_status
            if new_status == TicketStatus.RESOLVED:
                updates["resolved_at"] = now
    takes = not internal and ticket.assigned_to_id is None and getattr(actor, "role", "") in ASSIGNABLE_ROLES
    if takes:
        updates["assigned_to_id"] = actor.pk  # answering a ticket takes it
    SupportTicket.objects.filter(pk=ticket.pk).update(**updates)
    if takes:
        _audit(actor, "assigned_to_change", ticket, before="", after=str(actor.pk))
    _audit(actor, "note" if internal else ("ai_answer" if is_ai else "reply"), ticket, message=str(message.pk))
    if not internal:
        _notify_user_on_commit(ticket, kind="reply", message_id=message.pk)
    return message


@transaction.atomic
def staff_update(*, actor, ticket: SupportTicket, status: str | None = None, priority: str | None = None,
                 category: str | None = None, assigned_to_id=...) -> SupportTicket:
    """Status, priority, category and assignment changes, each audited; the user hears of a status change."""
    current = _locked(ticket)
    updates: dict = {}
    changes: dict = {}
    if status is not None and status != current.status:
        if status not in TicketStatus.values:
            raise SupportError(_("Choose one of the statuses."))
        updates["status"] = status
        if status == TicketStatus.RESOLVED:
            updates["resolved_at"] = timezone.now()
        elif status == TicketStatus.CLOSED:
            updates["closed_at"] = timezone.now()
            updates["resolved_at"] = current.resolved_at or timezone.now()
        else:
            updates.update(resolved_at=None, closed_at=None)
        changes["status"] = [current.status, status]
    if priority is not None and priority != current.priority:
        if priority not in Priority.values:
            raise SupportError(_("Choose one of the priorities."))
        updates["priority"] = priority
        updates["response_due_at"], updates["resolution_due_at"] = _due_times(current.created_at, priority)
        changes["priority"] = [current.priority, priority]
    if category is not None and category != current.category:
        if category not in TicketCategory.values:
            raise SupportError(_("Choose one of the categories."))
        updates["category"] = category
        changes["category"] = [current.category, category]
    if assigned_to_id is not ... and str(assigned_to_id or "") != str(current.assigned_to_id or ""):
        if assigned_to_id and not assignable_staff().filter(pk=assigned_to_id).exists():
            raise SupportError(_("Tickets can be assigned only to support staff or admins."))
        updates["assigned_to_id"] = assigned_to_id or None
        changes["assigned_to"] = [str(current.assigned_to_id or ""), str(assigned_to_id or "")]
    if not updates:
        return current
    updates["updated_at"] = timezone.now()
    if "status" in updates:
        updates["last_activity_at"] = updates["updated_at"]
    SupportTicket.objects.filter(pk=current.pk).update(**updates)
    current.refresh_from_db()
    for field, (before, after) in changes.items():
        _audit(actor, f"{field}_change", current, before=before, after=after)
    if "status" in changes:
        _notify_user_on_commit(current, kind="status")
    if changes.get("priority", [None, None])[1] == Priority.URGENT and current.status in OPEN_STATUSES:
        _notify_staff_on_commit(current, kind="urgent")
    return current


@transaction.atomic
def staff_resolve_many(*, actor, tickets) -> int:
    done = 0
    for ticket in tickets:
        if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            staff_update(actor=actor, ticket=ticket, status=TicketStatus.RESOLVED)
            done += 1
    return done


@transaction.atomic
def staff_assign_to_me_many(*, actor, tickets) -> int:
    done = 0
    for ticket in tickets:
        if ticket.assigned_to_id != actor.pk:
            status = TicketStatus.IN_PROGRESS if ticket.status == TicketStatus.OPEN else None
            staff_update(actor=actor, ticket=ticket, assigned_to_id=actor.pk, status=status)
            done += 1
    return done


@transaction.atomic
def ai_suggestion_accept(*, actor, ticket: SupportTicket) -> SupportTicket:
    """Apply the suggested category and priority (a staff decision, audited)."""
    suggestion = suggestion_of(ticket)
    if suggestion is None:
        raise SupportError(_("This ticket has no AI suggestion yet."))
    ticket = staff_update(actor=actor, ticket=ticket, category=suggestion.category or None,
                          priority=suggestion.priority or None)
    SupportTicket.objects.filter(pk=ticket.pk).update(ai_decision=AIDecision.ACCEPTED)
    _audit(actor, "ai_accept", ticket, category=suggestion.category, priority=suggestion.priority)
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ai_suggestion_send(*, actor, ticket: SupportTicket, text: str = "") -> SupportMessage:
    """Send the drafted answer (as drafted, or as the staff member edited it) as an AI-marked message."""
    suggestion = suggestion_of(ticket)
    if suggestion is None:
        raise SupportError(_("This ticket has no AI suggestion yet."))
    message = staff_reply(actor=actor, ticket=ticket, content=text.strip() or suggestion.answer, is_ai=True)
    SupportTicket.objects.filter(pk=ticket.pk).update(ai_decision=AIDecision.SENT)
    return message


@transaction.atomic
def ai_suggestion_discard(*, actor, ticket: SupportTicket) -> None:
    if suggestion_of(ticket) is None:
        raise SupportError(_("This ticket has no AI suggestion yet."))
    SupportTicket.objects.filter(pk=ticket.pk).update(ai_decision=AIDecision.DISCARDED)
    _audit(actor, "ai_discard", ticket)


def canned_reply_render(reply: CannedReply, ticket: SupportTicket) -> str:
    """The reply's text with its placeholders filled in ({name}, {email}, {ticket}, {title})."""
    user = ticket.user
    values = {"name": user.name or user.email.split("@")[0], "email": user.email, "ticket": ticket.ticket_number,
              "title": ticket.title}
    text = reply.body
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


# --- help articles (admin) ------------------------------------------------------------------------------


@transaction.atomic
def help_article_save(*, actor, article: HelpArticle, created: bool) -> HelpArticle:
    """Save the article, index it when published (its passages replaced) or unindex it, audited."""
    if not article.pk or created:
        article.created_by = article.created_by or actor
    article.save()
    helpcentre.article_sync(article)
    audit_log_record(actor=actor, action="support.article_create" if created else "support.article_change",
                     target_type="support_help_articles", target_id=article.pk,
                     details={"title": article.title, "published": article.is_published})
    return article


@transaction.atomic
def help_article_delete(*, actor, article: HelpArticle) -> None:
    helpcentre.article_unindex(article)
    audit_log_record(actor=actor, action="support.article_delete", target_type="support_help_articles",
                     target_id=article.pk, details={"title": article.title})
    article.delete()
