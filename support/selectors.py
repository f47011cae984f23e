"""Reads of the support domain, always scoped: a person sees only their own tickets, and never a
staff member's internal notes."""

from __future__ import annotations

import re
import uuid

from django.db.models import Q, QuerySet, Value
from django.http import Http404

from core.search import Folded

from .models import HelpArticle, SupportMessage, SupportTicket

_NUMBER = re.compile(r"^\s*#?\s*(?:t-?)?0*(\d{1,9})\s*$", re.IGNORECASE)


def number_query(text: str) -> str | None:
    """The ticket number ``text`` names ("T-000012", "t12", "#12", "12"), or None."""
    match = _NUMBER.match(text or "")
    return f"T-{int(match.group(1)):06d}" if match else None


def tickets_for_user(user, *, search: str = "", status: str = "") -> QuerySet[SupportTicket]:
    tickets = SupportTicket.objects.filter(user=user)
    if status:
        tickets = tickets.filter(status=status)
    if search:
        number = number_query(search)
        condition = Q(title_folded__icontains=Folded(Value(search))) | Q(ticket_number__iexact=search.strip())
        if number:
            condition |= Q(ticket_number=number)
        tickets = tickets.alias(title_folded=Folded("title")).filter(condition)  # accents aside, as core.search
    return tickets.order_by("-last_activity_at", "-created_at")


def ticket_get_for_user(*, user, ticket_id: uuid.UUID | str) -> SupportTicket:
    """The user's ticket or 404 (another user's ticket is 'not found', not 'forbidden')."""
    ticket = SupportTicket.objects.filter(pk=ticket_id, user=user).first()
    if ticket is None:
        raise Http404
    return ticket


def visible_messages(ticket: SupportTicket, *, after=None) -> QuerySet[SupportMessage]:
    """What the ticket's owner sees: every message but internal notes, oldest first."""
    messages = SupportMessage.objects.filter(ticket=ticket, user_id=ticket.user_id, is_internal=False)
    if after is not None:
        messages = messages.filter(created_at__gt=after)
    return messages.select_related("author").order_by("created_at", "id")


def staff_messages(ticket: SupportTicket) -> QuerySet[SupportMessage]:
    """The whole conversation for staff, internal notes included, newest last."""
    return SupportMessage.objects.filter(ticket=ticket).select_related("author").order_by("created_at", "id")


def published_articles(*, language: str = "", category: str = "") -> QuerySet[HelpArticle]:
    articles = HelpArticle.objects.filter(is_published=True)
    if language:
        articles = articles.filter(language=language)
    if category:
        articles = articles.filter(category=category)
    return articles.order_by("title")


def article_get_published(*, slug: str) -> HelpArticle:
    article = HelpArticle.objects.filter(slug=slug, is_published=True).first()
    if article is None:
        raise Http404
    return article
