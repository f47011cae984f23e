"""The built-in offline model: no network, always available, honest about what it is.

It cannot reason; it answers from what it has. With retrieved passages it quotes the sentences
that share the most keywords with the last question and cites them as ``[n]``. Without passages
it restates the question, says what the agent is for (the first sentence of its instructions) and
that a real model answers once an API key is configured. It replies in Spanish to a Spanish
question, and the same input always gives the same output.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from agents import tokens
from agents.providers.base import (
    ChatMessage,
    Passage,
    Prompt,
    Provider,
    StreamEvent,
    Usage,
    estimate_prompt_tokens,
    is_cancelled,
)
from core.text import STOP_WORDS_EN, STOP_WORDS_ES, detect_language, fold, stem_word

MAX_QUOTES = 3
MAX_QUOTE_CHARS = 320
MAX_QUESTION_CHARS = 160
MAX_TITLE_CHARS = 60

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_PIECE = re.compile(r"\S+\s*")

TEXTS = {
    "en": {
        "intro": "I am the offline model built into this app, so I cannot reason like a real language model.",
        "found": "Here is what your documents say about {topic}:",
        "found_no_topic": "Here is what your documents say:",
        "not_found": "I looked through {count} passage(s) from your documents ({sources}), "
        "but none of them mentions {topic}.",
        "understood": 'I understood that you are asking: "{question}"',
        "about": ", which seems to be about {topic}.",
        "no_question": "I did not find a question in this conversation.",
        "purpose": 'As this agent, my instructions say: "{purpose}"',
        "real_model": "A real model gives real answers once an API key for a model provider "
        "(OpenAI, Anthropic or an OpenAI-compatible server) is configured.",
        "and": "and",
        "or": "or",
    },
    "es": {
        "intro": "Soy el modelo sin conexión integrado en esta aplicación, así que no puedo razonar "
        "como un modelo de lenguaje real.",
        "found": "Esto es lo que dicen tus documentos sobre {topic}:",
        "found_no_topic": "Esto es lo que dicen tus documentos:",
        "not_found": "Revisé {count} fragmento(s) de tus documentos ({sources}), "
        "pero ninguno menciona {topic}.",
        "understood": 'Entendí que preguntas: "{question}"',
        "about": ", que parece tratar sobre {topic}.",
        "no_question": "No encontré ninguna pregunta en esta conversación.",
        "purpose": 'Como este agente, mis instrucciones dicen: "{purpose}"',
        "real_model": "Un modelo real dará respuestas reales cuando se configure una clave de API de un "
        "proveedor de modelos (OpenAI, Anthropic o un servidor compatible con OpenAI).",
        "and": "y",
        "or": "o",
    },
}


# --- text analysis -------------------------------------------------------------------------------


def keywords(text: str) -> dict[str, str]:
    """Content words of ``text``: stem -> the first original form seen (for display)."""
    found: dict[str, str] = {}
    for match in _WORD.finditer(text):
        original = match.group()
        folded = fold(original, casefold=False, every_mark=True)
        if len(folded) < 2 or folded in STOP_WORDS_EN or folded in STOP_WORDS_ES:
            continue
        found.setdefault(stem_word(folded, light=True), original.lower())
    return found


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:") + "..."


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


# --- the answer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quote:
    score: int
    passage_index: int
    sentence_index: int
    text: str
    number: int


def _question_keywords(conversation: list[ChatMessage]) -> tuple[str, dict[str, str]]:
    """The last user message, and its keywords (those of earlier user turns if it has none)."""
    user_turns = [m.content for m in conversation if m.role == "user"]
    question = user_turns[-1] if user_turns else ""
    for turn in reversed(user_turns):  # "and then?" borrows the topic of the turn before
        found = keywords(turn)
        if found:
            return question, found
    return question, {}


def _best_quotes(passages: list[Passage], query: dict[str, str]) -> list[_Quote]:
    quotes = []
    for p_index, passage in enumerate(passages):
        for s_index, sentence in enumerate(s.strip() for s in _SENTENCE_END.split(passage.text)):
            score = len(query.keys() & keywords(sentence).keys()) if sentence else 0
            if score:
                quotes.append(_Quote(score, p_index, s_index, sentence, passage.number))
    quotes.sort(key=lambda q: (-q.score, q.passage_index, q.sentence_index))
    return quotes[:MAX_QUOTES]


def compose_answer(messages: list[ChatMessage], passages: list[Passage] | None = None) -> str:
    """The offline model's full reply to the conversation (deterministic)."""
    system = "\n".join(m.content for m in messages if m.role == "system")
    conversation = [m for m in messages if m.role != "system"]
    question, query = _question_keywords(conversation)
    text = TEXTS[detect_language(question)]
    topic_words = list(query.values())[:4]
    topic = _join(topic_words, text["and"])
    lines = [text["intro"]]

    if passages:
        quotes = _best_quotes(passages, query)
        if quotes:
            lines.append(text["found"].format(topic=topic) if topic else text["found_no_topic"])
            lines.append("\n".join(f"- {_shorten(q.text, MAX_QUOTE_CHARS)} [{q.number}]" for q in quotes))
        else:
            # Titles without [n]: none of these passages answers, so the answer cites none of them.
            sources = "; ".join(p.title.strip() or "?" for p in passages)
            missing = _join(topic_words, text["or"]) or "?"
            lines.append(text["not_found"].format(count=len(passages), sources=sources, topic=missing))
    else:
        if question.strip():
            understood = text["understood"].format(question=_shorten(question, MAX_QUESTION_CHARS))
            lines.append(understood + (text["about"].format(topic=topic) if topic else "."))
        else:
            lines.append(text["no_question"])
        purpose = _first_sentence(system)
        if purpose:
            lines.append(text["purpose"].format(purpose=_shorten(purpose, MAX_QUESTION_CHARS)))

    lines.append(text["real_model"])
    return "\n\n".join(lines)


class OfflineProvider(Provider):
    name = "offline"

    def is_configured(self) -> bool:
        return True

    def generate(self, prompt: Prompt, *, cancel: threading.Event | None, timeout: float | None) -> Iterator[StreamEvent]:
        input_tokens = estimate_prompt_tokens(prompt.system, prompt.conversation)
        delay = float(getattr(settings, "OFFLINE_STREAM_DELAY", 0) or 0)
        streamed = ""
        cancelled = False
        for index, piece in enumerate(_PIECE.findall(compose_answer(prompt.messages, prompt.passages))):
            if is_cancelled(cancel):
                cancelled = True
                break
            if tokens.estimate_tokens(streamed + piece) > prompt.max_tokens:
                break  # like a real model hitting its output limit
            if index and delay:
                time.sleep(delay)
            streamed += piece
            yield StreamEvent(text=piece)
        usage = Usage(input_tokens=input_tokens, output_tokens=tokens.estimate_tokens(streamed), estimated=True)
        yield StreamEvent(usage=usage, finished=True, cancelled=cancelled)


def generate_title(first_user_message: str, first_answer: str = "") -> str:
    """A conversation title (at most 60 characters) from the user's first message."""
    for source in (first_user_message, first_answer):
        line = next((ln for ln in source.splitlines() if ln.strip()), "")
        line = re.sub(r"[#*_`>\[\]]+", " ", line)  # markdown markup is noise in a title
        line = " ".join(line.split()).lstrip("¿¡\"'-–—• ")
        if len(line) > MAX_TITLE_CHARS:
            line = line[: MAX_TITLE_CHARS + 1].rsplit(" ", 1)[0] or line[:MAX_TITLE_CHARS]
            line = line[:MAX_TITLE_CHARS]
        line = line.rstrip(" .,;:!?¿¡\"'-–—…")
        if line:
            return line[0].upper() + line[1:]
    return gettext("New conversation")
