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
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.text import STOP_WORDS, fold, stem_word

FOLLOWUP_TURNS = 2
FOLLOWUP_TERMS_PER_TURN = 6
FOLLOWUP_SHORT_WORDS = 2

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
