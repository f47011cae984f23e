"""The names and descriptions of the demo agents (``demo_agents``), stored in English and shown
in the reader's language while they are still as seeded (an edited text is the editor's)."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext, gettext_noop

SEEDED_TEXTS: dict[str, tuple[str, str]] = {
    "general-assistant": (
        gettext_noop("General assistant"),
        gettext_noop("Everyday questions, plans, summaries and drafts: a clear, honest helper for whatever comes up."),
    ),
    "code-helper": (
        gettext_noop("Code helper"),
        gettext_noop("Writes, reviews, explains and debugs code in any mainstream language, with an eye on security."),
    ),
    "writing-coach": (
        gettext_noop("Writing coach"),
        gettext_noop("Feedback and edits for emails, reports, essays and stories that keep your voice and teach as they go."),
    ),
    "finance-coach": (
        gettext_noop("Finance coach"),
        gettext_noop("Budgets, debt, saving and how investing works, explained step by step. Educational, not financial advice."),
    ),
    "health-companion": (
        gettext_noop("Health companion"),
        gettext_noop("Supportive guidance on sleep, food, movement and stress. Not a doctor: it points you to care when you need it."),
    ),
}
FIELDS = {"name": 0, "description": 1}


def shown(slug: str, field: str, stored: str) -> str:
    """What a reader sees of an agent's ``field`` ("name" or "description"): for a demo agent
    whose stored text is still the seeded one, that text in their language; else as stored."""
    seeded = SEEDED_TEXTS.get(slug)
    if seeded is not None and stored and seeded[FIELDS[field]] == stored:
        return gettext(stored)
    return stored


def _folded(text: str) -> str:
    """Lower case without accents (as the catalog search compares, in Python)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


def translated_matches(query: str) -> list[tuple[str, str, str]]:
    """(slug, field, stored text) of the demo agents whose text *as shown* in the active language
    contains ``query`` (accents and case ignored): a reader searches the words they see."""
    needle = _folded(query)
    return [
        (slug, field, texts[index])
        for slug, texts in SEEDED_TEXTS.items()
        for field, index in FIELDS.items()
        if needle and needle in _folded(gettext(texts[index]))
    ]
