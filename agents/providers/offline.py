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
import unicodedata
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

MAX_QUOTES = 3
MAX_QUOTE_CHARS = 320
MAX_QUESTION_CHARS = 160
MAX_TITLE_CHARS = 60

# Accents are stripped before lookup, so these are written without them.
STOP_WORDS_EN = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its just me more most my no nor not now
    of off on once only or other our out over own please same she should so some such tell than that the
    their them then there these they this those through to too under until up very want was we were what
    when where which while who whom why will with would you your""".split()
)
STOP_WORDS_ES = frozenset(
    """a al algo algun alguna algunas alguno algunos ante antes aqui asi cada como con contra cual cuales
    cuando cuanto de del desde donde dos el ella ellas ellos en entre era eran es esa esas ese eso esos
    esta estaba estan estar este esto estos fue fueron ha habia han hasta hay la las le les lo los mas
    me mi mis mucho muy nada ni no nos nosotros o os otra otro otros para pero poco por porque puede
    puedo que quien quienes se sea ser si sin sobre son su sus tambien te tengo tiene tienen todo todos
    tu tus un una uno unos usted y ya yo""".split()
)
# Words that tell the languages apart (shared ones such as "a", "no", "me" prove nothing).
_SPANISH_MARKERS = (STOP_WORDS_ES - STOP_WORDS_EN) | {"hola", "gracias", "buenos", "buenas", "favor"}
_ENGLISH_MARKERS = (STOP_WORDS_EN - STOP_WORDS_ES) | {"hello", "hi", "thanks", "thank"}

# Light stemming, longest suffix first; plural "s" and a final "e" are handled after.
_SUFFIXES = ("amientos", "imientos", "amiento", "imiento", "aciones", "ations", "ciones", "mente",
             "ation", "cion", "ings", "ness", "edly", "ing", "ed", "ly")

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


def _fold(text: str) -> str:
    """Lower-case without accents, so "Información" and "informacion" match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:  # passage/passages, ciudad/ciudades
        word = word[:-1]
    return word


def keywords(text: str) -> dict[str, str]:
    """Content words of ``text``: stem -> the first original form seen (for display)."""
    found: dict[str, str] = {}
    for match in _WORD.finditer(text):
        original = match.group()
        folded = _fold(original)
        if len(folded) < 2 or folded in STOP_WORDS_EN or folded in STOP_WORDS_ES:
            continue
        found.setdefault(_stem(folded), original.lower())
    return found


def detect_language(text: str) -> str:
    """ "es" when the text is clearly Spanish (more Spanish than English markers), else "en"."""
    words = [_fold(w) for w in _WORD.findall(text)]
    spanish = sum(w in _SPANISH_MARKERS for w in words) + (2 if "¿" in text or "¡" in text else 0)
    english = sum(w in _ENGLISH_MARKERS for w in words)
    return "es" if spanish > english else "en"


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
            sources = "; ".join(f"[{p.number}] {p.title}".strip() for p in passages)
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
