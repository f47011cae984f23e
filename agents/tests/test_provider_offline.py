"""The built-in offline model: no network, deterministic, honest, cites passages."""

from __future__ import annotations

import threading

from agents.providers import ChatMessage, Passage, get_provider
from agents.providers.offline import compose_answer, detect_language, generate_title

SYSTEM = ChatMessage("system", "You help customers of an online shop. Be polite and concise.")
PASSAGES = [
    Passage(1, "Returns policy", "Refunds are accepted within 30 days of purchase. Shipping takes five days."),
    Passage(2, "Warranty", "The warranty covers defects for two years.\nRefund requests for defective items "
                           "go through the support form."),
]


def run(messages, passages=None, **kwargs):
    kwargs = {"model": "offline", "temperature": 0.7, "max_tokens": 1024, **kwargs}
    return list(get_provider("offline").stream(messages=messages, passages=passages, **kwargs))


def text_of(events) -> str:
    return "".join(e.text for e in events)


def test_streams_word_by_word_says_it_is_offline_and_estimates_usage():
    events = run([SYSTEM, ChatMessage("user", "Can you track my order?")])

    texts = [e.text for e in events if e.text]
    assert len(texts) > 10
    assert all(len(t.split()) == 1 for t in texts)
    assert "offline model" in text_of(events)
    final = events[-1]
    assert final.finished and not final.cancelled and final.usage.estimated
    assert final.usage.input_tokens > 10 and final.usage.output_tokens >= len(texts)
    assert sum(e.finished for e in events) == 1


def test_cites_the_relevant_passages_and_quotes_them():
    answer = text_of(run([SYSTEM, ChatMessage("user", "What is the refund policy?")], PASSAGES))

    assert "Refunds are accepted within 30 days of purchase. [1]" in answer
    assert "Refund requests for defective items go through the support form. [2]" in answer
    assert "Shipping takes five days" not in answer  # irrelevant to the question
    assert "refund" in answer.lower().split("documents say about", 1)[1]


def test_says_so_when_no_passage_matches():
    answer = text_of(run([ChatMessage("user", "Do you sell bicycles?")], PASSAGES))
    assert "none of them mentions sell or bicycles." in answer
    assert "(Returns policy; Warranty)" in answer and "[1]" not in answer  # titles, not citations: none helped


def test_without_passages_restates_the_question_and_the_agent_purpose():
    answer = text_of(run([SYSTEM, ChatMessage("user", "Can you track my order?")]))

    assert 'you are asking: "Can you track my order?"' in answer
    assert "track" in answer and "order" in answer
    assert '"You help customers of an online shop."' in answer
    assert "Be polite" not in answer  # only the first sentence of the instructions
    assert "API key" in answer


def test_answers_in_spanish_to_a_spanish_question():
    passages = [Passage(1, "Política", "Las devoluciones se aceptan durante 30 días. El envío es gratis.")]
    answer = text_of(run([SYSTEM, ChatMessage("user", "¿Cuál es la política de devoluciones?")], passages))

    assert "modelo sin conexión" in answer
    assert "Las devoluciones se aceptan durante 30 días. [1]" in answer
    assert "El envío es gratis" not in answer
    assert detect_language("How do returns work?") == "en"
    assert detect_language("hola, necesito ayuda con mi pedido") == "es"


def test_uses_the_conversation_when_the_last_message_has_no_topic():
    messages = [ChatMessage("user", "Tell me about the warranty"), ChatMessage("assistant", "Sure."),
                ChatMessage("user", "and then?")]
    answer = text_of(run(messages, PASSAGES))
    assert "The warranty covers defects for two years. [2]" in answer


def test_is_deterministic():
    messages = [SYSTEM, ChatMessage("user", "What is the refund policy?")]
    assert run(messages, PASSAGES) == run(messages, PASSAGES)
    assert compose_answer(messages) == compose_answer(list(messages))


def test_cancel_and_max_tokens_stop_the_stream():
    cancel = threading.Event()
    events = []
    for event in get_provider("offline").stream(model="offline", messages=[ChatMessage("user", "Hello there")],
                                                temperature=0.7, max_tokens=1024, cancel=cancel):
        events.append(event)
        if len(events) == 3:
            cancel.set()
    assert len(events) == 4 and events[-1].cancelled and events[-1].finished

    short = run([ChatMessage("user", "Hello there")], max_tokens=5)
    assert short[-1].usage.output_tokens <= 5 and len(short) <= 6


def test_is_always_configured(settings):
    settings.OPENAI_API_KEY = settings.ANTHROPIC_API_KEY = settings.OPENAI_BASE_URL = ""
    assert get_provider("offline").is_configured()


def test_generate_title_is_short_and_clean():
    assert generate_title("What is the refund policy?", "anything") == "What is the refund policy"
    assert generate_title("¿Cómo preparo un presupuesto mensual?", "") == "Cómo preparo un presupuesto mensual"
    assert generate_title("  ## plan   my\ttrip!!  \nsecond line", "") == "Plan my trip"

    long = generate_title("Please help me understand how the quarterly budget forecast for marketing was built", "")
    assert long == "Please help me understand how the quarterly budget forecast"  # cut at a word boundary
    assert len(long) <= 60
    assert generate_title("x" * 200, "") == "X" + "x" * 59

    assert generate_title("", "Here is a plan.") == "Here is a plan"
    assert generate_title("?!", "") == "New conversation"
