"""Support emails, each in its recipient's language (``user_settings.language``).

To the ticket's owner: a staff reply (its text, never an internal note) and a status change, with
a link to the ticket. To staff (the assignee, else ``SUPPORT_STAFF_EMAILS``, else every active
support and admin user): a new URGENT ticket and an escalation, with a link to the admin.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import UserSettings
from core.tenancy import tenant

from . import conf
from .models import SupportMessage, SupportTicket, TicketStatus

logger = logging.getLogger(__name__)

STAFF_ROLES = ("SUPPORT", "ADMIN", "SUPER_ADMIN")


def _language_of(user_id) -> str:
    with tenant(user_id):
        language = UserSettings.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE[:2]


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _subject(text: str) -> str:
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + text


def _status_label(status: str) -> str:
    return str(TicketStatus(status).label) if status in TicketStatus.values else status


def notify_user(*, ticket_id, user_id, kind: str, message_id=None) -> bool:
    """Email the ticket's owner about a staff reply (``kind`` "reply") or a status change ("status")."""
    with tenant(user_id):
        ticket = SupportTicket.objects.select_related("user").filter(pk=ticket_id, user_id=user_id).first()
        message = None
        if kind == "reply":
            # Internal notes are excluded here too: this query is the only way a reply reaches an email.
            message = SupportMessage.objects.filter(pk=message_id, ticket_id=ticket_id, is_internal=False,
                                                    is_staff=True).first()
    if ticket is None or not ticket.user.is_active or (kind == "reply" and message is None):
        return False
    user = ticket.user
    with translation.override(_language_of(user.id)):
        values = {"number": ticket.ticket_number, "title": ticket.title, "status": _status_label(ticket.status),
                  "url": _site(reverse("support:detail", args=[ticket.pk]))}
        greeting = _("Hello %(name)s,") % {"name": user.get_short_name()}
        if kind == "reply":
            subject = _("New reply on your ticket %(number)s") % values
            body = [greeting, "", _("Support replied to your ticket %(number)s “%(title)s”:") % values, "",
                    message.content, "", _("Reply or see the whole conversation: %(url)s") % values]
        else:
            subject = _("Your ticket %(number)s is now “%(status)s”") % values
            body = [greeting, "", _("Your ticket %(number)s “%(title)s” is now “%(status)s”.") % values, "",
                    _("See your ticket: %(url)s") % values]
        send_mail(subject=_subject(subject), message="\n".join(body) + "\n", from_email=None,
                  recipient_list=[user.email])
    return True


def staff_recipients(ticket: SupportTicket) -> list:
    users = get_user_model().objects.filter(deleted_at__isnull=True)
    if ticket.assigned_to_id:
        assignee = users.filter(pk=ticket.assigned_to_id).first()
        if assignee is not None:
            return [assignee]
    listed = conf.staff_emails()
    if listed:
        found = list(users.filter(email__in=[e.lower() for e in listed]))
        known = {u.email for u in found}
        return found + [e for e in listed if e.lower() not in known]  # addresses without an account: plain strings
    return list(users.filter(role__in=STAFF_ROLES).order_by("email"))


def notify_staff(*, ticket_id, user_id, kind: str) -> int:
    """Email staff about a new URGENT ticket (``kind`` "urgent") or an escalation ("escalated"/"overdue")."""
    with tenant(user_id):
        ticket = SupportTicket.objects.filter(pk=ticket_id, user_id=user_id).first()
    if ticket is None:
        return 0
    sent = 0
    url = _site(reverse("admin:support_supportticket_change", args=[ticket.pk]))
    for recipient in staff_recipients(ticket):
        email = recipient if isinstance(recipient, str) else recipient.email
        language = settings.LANGUAGE_CODE[:2] if isinstance(recipient, str) else _language_of(recipient.pk)
        with translation.override(language):
            values = {"number": ticket.ticket_number, "title": ticket.title, "url": url,
                      "priority": ticket.get_priority_display()}
            if kind == "urgent":
                subject = _("Urgent ticket %(number)s: %(title)s") % values
                lead = _("Ticket %(number)s “%(title)s” is urgent.") % values
            elif kind == "overdue":
                subject = _("Ticket %(number)s is past its resolution target") % values
                lead = _("Ticket %(number)s “%(title)s” is past its resolution target.") % values
            else:
                subject = _("Ticket %(number)s escalated to %(priority)s") % values
                lead = _("Ticket %(number)s “%(title)s” had no first response within its target; its priority "
                         "is now %(priority)s.") % values
            body = [lead, "", _("Open it in the admin: %(url)s") % values]
            send_mail(subject=_subject(subject), message="\n".join(body) + "\n", from_email=None, recipient_list=[email])
        sent += 1
    return sent
