"""The retrieval query of a chat turn: the latest question, plus the conversation's context when it
is a follow-up.

"How do I create a virtual environment?" then "and how do I delete it?": the second question alone
retrieves passages about deleting anything. ``retrieval_query`` keeps the latest question whole and
appends the salient terms of the previous user turns (the last ``FOLLOWUP_TURNS``, newest first):
their content words (stop words dropped, accents and case folded, one per stem), at most
``FOLLOWUP_TERMS_PER_TURN`` per turn and only words the latest question does not already have. The
appended terms weigh less than the question's own words in both halves of retrieval: the question
comes first and keeps every word, the context is a few bare terms (in the vector half a handful of
added tokens beside the question's; in the full-text half each one is one more optional term).

The context is added only when the question reads as a follow-up: it refers back ("it", "that",
"them", "eso", "lo"…), opens with a connective ("and", "what about", "y", "también"…), or has at
most ``FOLLOWUP_SHORT_WORDS`` content words. A self-contained question changes subject freely.

Optionally (``RAG_FOLLOWUP_REWRITE``, off by default) the turn's model, when it is a real one,
rewrites a follow-up into a standalone search query (``rewrite_followup``), metered like any call:
reserved against the monthly limits and leaving a usage log. At the limit, on a provider error or
an empty answer, the condensed query above is used. The offline model never rewrites.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from django.conf import settings

from core.text import STOP_WORDS, fold, stem_word, strip_control_chars

logger = logging.getLogger(__name__)

FOLLOWUP_TURNS = 2
FOLLOWUP_TERMS_PER_TURN = 6
FOLLOWUP_SHORT_WORDS = 2
REWRITE_MAX_CHARS = 300
REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone search query for their documents, using the "
    "earlier questions only to fill in what it refers to. Answer with the query only, in the language of "
    "the last question."
)

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Words that point back at something said before (folded; English and Spanish).
_ANAPHORA = frozenset(
    """it its it's itself that this these those them they their there one ones same such former latter
    above previous earlier
    eso esto esa ese esos esas ello lo la los las le les aquello aquel aquella mismo misma anterior""".split()
)
# Openings that continue the previous question.
_CONTINUATIONS = (
    "and ", "also ", "but ", "so ", "then ", "what about ", "how about ", "and what", "and how", "what if ",
    "y ", "e ", "tambien ", "pero ", "entonces ", "y si ", "que tal ", "y como ", "y que ", "y donde ",
)


def content_words(text: str) -> list[str]:
    """The text's words that say something: folded, without stop words and one-letter words, in order."""
    return [word for word in _WORD.findall(fold(text)) if len(word) > 1 and word not in STOP_WORDS]


def is_followup(question: str) -> bool:
    """Whether ``question`` reads as continuing the conversation (see the module docstring)."""
    folded = " ".join(_WORD.findall(fold(question)))
    if not folded:
        return False
    words = folded.split()
    if folded.startswith(_CONTINUATIONS) or any(word in _ANAPHORA for word in words):
        return True
    return len(content_words(question)) <= FOLLOWUP_SHORT_WORDS


def context_terms(question: str, previous: Sequence[str], *, turns: int = FOLLOWUP_TURNS,
                  per_turn: int = FOLLOWUP_TERMS_PER_TURN) -> list[str]:
    """The salient terms of the last ``turns`` previous user messages (newest first), each stem once
    and none the question already has."""
    seen = {stem_word(word) for word in content_words(question)}
    terms: list[str] = []
    for message in list(previous)[-turns:][::-1]:
        taken = 0
        for word in content_words(message):
            stem = stem_word(word)
            if stem in seen:
                continue
            seen.add(stem)
            terms.append(word)
            taken += 1
            if taken == per_turn:
                break
    return terms


def retrieval_query(question: str, previous: Sequence[str]) -> str:
    """What to retrieve with for ``question``, asked after the user messages ``previous`` (oldest
    first, without ``question`` itself)."""
    if not previous or not is_followup(question):
        return question
    terms = context_terms(question, previous)
    return f"{question} {' '.join(terms)}" if terms else question


def previous_user_turns(history: Sequence[tuple[str, str]], question: str) -> list[str]:
    """The user messages of a turn's history (``(role, content)``, oldest first, ending with the
    question itself), without that last question."""
    contents = [content for role, content in history if role == "user"]
    if contents and contents[-1] == question:
        contents = contents[:-1]
    return contents


def turn_query(*, user, conversation, model: str, question: str, previous: Sequence[str]) -> str:
    """The retrieval query of a chat turn: ``question`` alone, condensed with ``previous`` when it is
    a follow-up, or rewritten by ``model`` when ``RAG_FOLLOWUP_REWRITE`` is on (see the module docstring)."""
    condensed = retrieval_query(question, previous)
    if condensed == question or not getattr(settings, "RAG_FOLLOWUP_REWRITE", False):
        return condensed
    from agents import registry  # noqa: PLC0415 - only the optional rewrite needs a model

    info = registry.get_model(model)
    if info is None or info.provider == "offline" or not registry.is_available(info.id):
        return condensed
    return rewrite_followup(user=user, conversation=conversation, model=info.id, question=question,
                            previous=previous) or condensed


def rewrite_followup(*, user, conversation, model: str, question: str, previous: Sequence[str]) -> str:
    """The model's standalone query for a follow-up ("" when it could not give one), metered as a turn."""
    from agents.providers import ChatMessage  # noqa: PLC0415 - the optional rewrite's dependencies
    from metrics.calls import metered_call  # noqa: PLC0415

    earlier = "\n".join(f"- {text[:500]}" for text in list(previous)[-FOLLOWUP_TURNS:])
    messages = [ChatMessage("system", REWRITE_PROMPT),
                ChatMessage("user", f"Earlier questions:\n{earlier}\n\nLast question: {question[:1000]}")]
    text = metered_call(conversation=conversation, model=model, messages=messages, temperature=0.0, max_tokens=64,
                        purpose="follow-up rewrite")
    if not text:
        return ""
    lines = [line for line in strip_control_chars(text).splitlines() if line.strip()]
    return " ".join(lines[0].strip().strip("\"'“”«»").split())[:REWRITE_MAX_CHARS] if lines else ""
