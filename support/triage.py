"""AI triage of a new ticket: a suggested category and priority and a drafted answer citing help
articles, written to ``ai_suggestion`` only (no other field of the ticket changes; staff decide).

It reads the ticket and its owner's profile (name, plan, language) inside the owner's tenant
context, and the help centre's passages (``support.helpcentre``, the system user's documents):
never another person's data. With the offline model (``SUPPORT_TRIAGE_MODEL = "offline"``) the
category and priority come from keyword rules and the draft quotes the best passages; with a real
model, the model drafts from the same material and its category and priority lines are parsed (the
rules fill in what it leaves out). A model that fails transiently raises ``ProviderError`` so the
task retries; after the last retry the rule-based suggestion is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import UserSettings
from agents import registry
from agents.providers import ChatMessage, ProviderError, provider_for_model
from core.tenancy import bypass, tenant
from core.text import fold

from . import conf, helpcentre
from .models import OPEN_STATUSES, Priority, SupportTicket, TicketCategory
from .suggestions import SuggestedCitation, Suggestion

logger = logging.getLogger(__name__)

PASSAGES = 4
MAX_ANSWER_TOKENS = 700

_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    TicketCategory.BILLING: ("bill", "invoice", "charge", "payment", "refund", "subscription", "plan", "price", "card",
                             "factura", "cobro", "cobra", "pago", "reembolso", "suscripcion", "tarjeta", "precio"),
    TicketCategory.ACCOUNT: ("password", "log in", "login", "sign in", "signin", "account", "two-factor", "2fa",
                             "email address", "contrasena", "cuenta", "iniciar sesion", "correo"),
    TicketCategory.INTEGRATIONS: ("gmail", "calendar", "notion", "slack", "github", "integration", "sync",
                                  "integracion", "sincroniz", "calendario"),
    TicketCategory.DOCUMENTS: ("document", "upload", "pdf", "index", "file", "rag", "documento", "archivo", "subir"),
    TicketCategory.AGENTS: ("agent", "chat", "answer", "model", "conversation", "prompt", "agente", "conversacion",
                            "respuesta", "modelo"),
    TicketCategory.BUG: ("error", "broken", "crash", "bug", "not working", "doesn't work", "does not work", "fails",
                         "failed", "falla", "no funciona", "roto", "se cae"),
}
_URGENT_WORDS = ("urgent", "asap", "emergency", "data loss", "lost all", "security", "hacked", "breach", "urgente",
                 "emergencia", "perdi todo", "seguridad", "hackeado")
_HIGH_WORDS = ("cannot", "can't", "unable", "blocked", "charged twice", "outage", "is down", "locked out",
               "no puedo", "bloqueado", "cobro doble", "cobraron dos veces", "caido")
_LOW_WORDS = ("question", "how do i", "how can i", "suggestion", "feature request", "would be nice", "pregunta",
              "como puedo", "sugerencia", "seria bueno")


@dataclass(frozen=True)
class TriageInput:
    ticket_id: str
    title: str
    description: str
    name: str
    tier: str
    language: str


def _matches(text: str, words) -> int:
    return sum(1 for word in words if word in text)


def rule_category(text: str) -> str:
    folded = fold(text)
    scores = {category: _matches(folded, words) for category, words in _CATEGORY_WORDS.items()}
    best = max(scores.items(), key=lambda item: item[1])
    return best[0] if best[1] else TicketCategory.OTHER


def rule_priority(text: str, *, tier: str = "") -> str:
    folded = fold(text)
    if _matches(folded, _URGENT_WORDS):
        priority = Priority.URGENT
    elif _matches(folded, _HIGH_WORDS):
        priority = Priority.HIGH
    elif _matches(folded, _LOW_WORDS):
        priority = Priority.LOW
    else:
        priority = Priority.MEDIUM
    if tier == "ENTERPRISE" and priority == Priority.LOW:
        priority = Priority.MEDIUM  # a business plan's questions are not left for last
    return priority


def _article_url(article) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("support:article", args=[article.slug])


def _citations(passages) -> list[SuggestedCitation]:
    return [SuggestedCitation(number=p.number, title=p.article.title, url=_article_url(p.article)) for p in passages]


def _greeting(facts: TriageInput) -> str:
    return _("Hello %(name)s,") % {"name": facts.name} if facts.name else _("Hello,")


def rule_based_answer(facts: TriageInput, passages) -> str:
    lines = [_greeting(facts), ""]
    if passages:
        lines.append(_("Thank you for writing. These passages of our help centre may answer your question:"))
        lines.append("")
        for passage in passages:
            lines.append(f"> {passage.text} [{passage.number}]")
            lines.append("")
        lines.append(_("If they do not solve it, reply here and we will look into it."))
        lines.append("")
        lines.append(_("Sources:"))
        lines.extend(f"[{c.number}] {c.title}: {c.url}" for c in _citations(passages))
    else:
        lines.append(_("Thank you for writing. We have received your ticket and will answer as soon as we can."))
    return "\n".join(lines)


def _prompt(facts: TriageInput, passages) -> list[ChatMessage]:
    sources = "\n\n".join(f"[{p.number}] {p.article.title}\n{p.text}" for p in passages) or "(none)"
    system = (
        "You triage support tickets for a personal AI-agents platform. Answer with exactly two first lines:\n"
        f"CATEGORY: one of {', '.join(TicketCategory.values)}\n"
        f"PRIORITY: one of {', '.join(Priority.values)}\n"
        "then a blank line and a short, friendly answer to the user, in the user's language "
        f"({facts.language}), based only on the help-centre passages below; cite them as [n]. If they do not "
        "answer the question, say a person will follow up. Never invent policies.\n\n"
        f"Help-centre passages:\n{sources}"
    )
    user = (f"User: {facts.name or '-'} (plan {facts.tier})\nTicket title: {facts.title}\n\n"
            f"Ticket description:\n{facts.description}")
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


_LINE = re.compile(r"^\s*(CATEGORY|PRIORITY)\s*:\s*([A-Z_]+)\s*$", re.IGNORECASE | re.MULTILINE)


def parse_model_answer(text: str) -> tuple[str, str, str]:
    """(category, priority, answer) from the model's reply; "" for a value it did not give."""
    category = priority = ""
    for key, value in _LINE.findall(text or ""):
        value = value.upper()
        if key.upper() == "CATEGORY" and value in TicketCategory.values:
            category = value
        elif key.upper() == "PRIORITY" and value in Priority.values:
            priority = value
    answer = _LINE.sub("", text or "").strip()
    return category, priority, answer


def _model_answer(model: str, facts: TriageInput, passages) -> str:
    """The model's whole reply; ``ProviderError`` when the call failed (the task retries)."""
    parts: list[str] = []
    for event in provider_for_model(model).stream(model=model, messages=_prompt(facts, passages), temperature=0.2,
                                                  max_tokens=MAX_ANSWER_TOKENS):
        if event.text:
            parts.append(event.text)
        if event.finished and event.cancelled:
            raise ProviderError(_("The model stopped before finishing."), detail="cancelled")
    return "".join(parts)


def _facts(*, ticket_id, user_id) -> TriageInput | None:
    with tenant(user_id):
        ticket = SupportTicket.objects.select_related("user").filter(pk=ticket_id, user_id=user_id).first()
        if ticket is None or ticket.ai_suggestion:
            return None
        language = UserSettings.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    return TriageInput(ticket_id=str(ticket.pk), title=ticket.title, description=ticket.description,
                       name=ticket.user.name, tier=ticket.user.subscription_tier,
                       language=language or settings.LANGUAGE_CODE[:2])


def _is_offline(model: str) -> bool:
    info = registry.get_model(model)
    return info is None or info.provider == "offline"


def build_suggestion(facts: TriageInput, *, use_model: bool = True) -> Suggestion:
    text = f"{facts.title}\n{facts.description}"
    passages = helpcentre.help_passages(text, limit=PASSAGES)
    category, priority = rule_category(text), rule_priority(text, tier=facts.tier)
    model = conf.triage_model()
    with translation.override(facts.language):
        if not use_model or _is_offline(model):
            return Suggestion(category=category, priority=priority, answer=rule_based_answer(facts, passages),
                              citations=_citations(passages), model="offline", rule_based=True)
        reply = _model_answer(model, facts, passages)
        model_category, model_priority, answer = parse_model_answer(reply)
        if not answer:
            return Suggestion(category=category, priority=priority, answer=rule_based_answer(facts, passages),
                              citations=_citations(passages), model="offline", rule_based=True)
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        citations = [c for c in _citations(passages) if c.number in cited]
        if citations:
            answer += "\n\n" + _("Sources:") + "\n" + "\n".join(f"[{c.number}] {c.title}: {c.url}" for c in citations)
        return Suggestion(category=model_category or category, priority=model_priority or priority, answer=answer,
                          citations=citations, model=model)


def triage_ticket(*, ticket_id, user_id, use_model: bool = True) -> Suggestion | None:
    """Write the ticket's suggestion once (a redelivered task finds it written); returns it, or None
    when nothing was written."""
    facts = _facts(ticket_id=ticket_id, user_id=user_id)
    if facts is None:
        return None
    suggestion = build_suggestion(facts, use_model=use_model)
    with tenant(user_id):
        # ``update`` touches this one column (``updated_at`` is not auto-set by it): no other field changes.
        written = SupportTicket.objects.filter(pk=ticket_id, user_id=user_id, ai_suggestion="").update(
            ai_suggestion=suggestion.to_text())
    return suggestion if written else None


PENDING_AFTER = dt.timedelta(minutes=5)
PENDING_WITHIN = dt.timedelta(days=1)


def tickets_awaiting_triage(*, now=None) -> list[tuple[str, str]]:
    """(ticket id, owner id) of tickets opened 5 minutes to a day ago that still have no suggestion."""
    now = now or timezone.now()
    with bypass("support triage sweep"):
        rows = SupportTicket.objects.filter(
            ai_suggestion="", created_at__lt=now - PENDING_AFTER, created_at__gte=now - PENDING_WITHIN,
            status__in=OPEN_STATUSES,
        ).values_list("id", "user_id")[:500]
        return [(str(ticket_id), str(user_id)) for ticket_id, user_id in rows]
