"""The AI suggestion kept in ``support_tickets.ai_suggestion``: a JSON document (category, priority,
drafted answer, its numbered citations, the model), read back by ``suggestion_of``.

Text that is not such a document (an older row, a hand edit) reads as a drafted answer alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .models import Priority, TicketCategory

VERSION = 1


@dataclass(frozen=True)
class SuggestedCitation:
    number: int
    title: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    category: str
    priority: str
    answer: str
    citations: list[SuggestedCitation] = field(default_factory=list)
    model: str = ""
    rule_based: bool = False

    def to_text(self) -> str:
        return json.dumps({"version": VERSION, **asdict(self)}, ensure_ascii=False)

    @property
    def category_label(self) -> str:
        return str(TicketCategory(self.category).label) if self.category in TicketCategory.values else ""

    @property
    def priority_label(self) -> str:
        return str(Priority(self.priority).label) if self.priority in Priority.values else ""


def parse_suggestion(text: str) -> Suggestion | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return Suggestion(category="", priority="", answer=text)
    category = data.get("category") if data.get("category") in TicketCategory.values else ""
    priority = data.get("priority") if data.get("priority") in Priority.values else ""
    citations = []
    for item in data.get("citations") or []:
        if isinstance(item, dict) and isinstance(item.get("number"), int):
            citations.append(SuggestedCitation(number=item["number"], title=str(item.get("title", "")),
                                               url=str(item.get("url", ""))))
    return Suggestion(category=category, priority=priority, answer=str(data.get("answer", "")), citations=citations,
                      model=str(data.get("model", "")), rule_based=bool(data.get("rule_based")))


def suggestion_of(ticket) -> Suggestion | None:
    return parse_suggestion(ticket.ai_suggestion)
