"""Fusion weights per embedder, the text weight that follows the word match, and the calibrated
relevance threshold (rag/fusion.py, issue 08 item 2)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from core.tenancy import tenant
from rag import fusion
from rag.evaluation import HALVES, KINDS, LIBRARY_PATH, Candidates, ChunkInfo, Question, index_corpus, load_corpus, tune
from rag.forms import RagSettingsForm
from rag.models import RagSettings
from rag.retrieval import retrieve


def test_each_embedder_has_its_measured_weights_and_a_setting_makes_its_text_weight_constant(settings):
    assert fusion.weights_for("static") == fusion.FUSION["static"]
    assert fusion.weights_for("sentence-transformers") == fusion.FUSION["sentence-transformers"]
    assert fusion.weights_for("openai") == fusion.FUSION["sentence-transformers"]
    assert fusion.weights_for("someone-elses") == fusion.DEFAULT_WEIGHTS
    settings.RAG_FUSION_TEXT_WEIGHTS = {"static": 0.25}
    overridden = fusion.weights_for("static")
    assert overridden.text_weight(0.0) == overridden.text_weight(1.0) == 0.25
    assert overridden.vector_power == fusion.FUSION["static"].vector_power
    assert fusion.weights_for("sentence-transformers") == fusion.FUSION["sentence-transformers"]


def test_the_text_weight_follows_how_much_of_the_question_the_best_word_match_covers():
    weights = fusion.Weights(0.4, 0.8, 0.3, 0.4)
    assert weights.text_weight(0.0) == weights.text_weight(0.3) == 0.4
    assert weights.text_weight(0.35) == pytest.approx(0.6)  # linear on the ramp
    assert weights.text_weight(0.4) == weights.text_weight(1.0) == 0.8
    assert fusion.Weights.constant(0.3).text_weight(0.9) == 0.3
    assert str(weights) == "text 0.4\u21920.8 over share 0.3\u21920.4"
    # The same candidates, two questions: one whose best passage matches most of it by its words
    # (a question in the document's own words), one whose best passage matches a fifth of it (a
    # paraphrase). The word match decides the first; the nearest passage stays first in the second.
    vector = [("near", 0.80), ("worded", 0.76), ("far", 0.40)]
    worded = fusion.fuse(vector, [("worded", 12.0), ("far", 3.0)], text_weight=weights, text_ceiling=20.0)
    brushed = fusion.fuse(vector, [("worded", 2.0), ("far", 1.5)], text_weight=weights, text_ceiling=20.0)
    assert [chunk for chunk, *_ in worded][:2] == ["worded", "near"]
    assert [chunk for chunk, *_ in brushed][:2] == ["near", "worded"]
    scores = {chunk: score for chunk, score, *_ in worded}
    assert scores["worded"] == pytest.approx(0.2 * 0.9 + 0.8 * 12.0 / 20.0)  # (1 - w) · v + w · t, w = 0.8


def test_the_vector_half_counts_as_the_square_root_of_its_min_max_share():
    vector = [("a", 0.80), ("b", 0.60), ("c", 0.40)]
    linear = {chunk: score for chunk, score, *_ in fusion.fuse(vector, [], text_weight=fusion.Weights.constant(0.5))}
    rooted = {chunk: score for chunk, score, *_ in fusion.fuse(
        vector, [], text_weight=fusion.Weights.constant(0.5, vector_power=0.5))}
    assert linear["b"] == pytest.approx(0.25) and rooted["b"] == pytest.approx(0.5 * 0.5 ** 0.5)
    assert linear["a"] == rooted["a"] == pytest.approx(0.5) and linear["c"] == rooted["c"] == 0.0


def test_the_threshold_is_a_percentile_of_the_embedders_own_similarities():
    for name, table in fusion.CALIBRATION.items():
        assert len(table) == 21 and list(table) == sorted(table), name
        assert fusion.similarity_floor(0, name) == float("-inf")  # 0 keeps everything
        assert fusion.similarity_floor(0.5, name) == table[10]
        assert fusion.similarity_floor(1, name) == table[-1]
        assert table[10] < fusion.similarity_floor(0.525, name) < table[11]  # linear in between
        assert fusion.percentile_of(table[10], name) == pytest.approx(0.55)
    # The same setting means a different cosine for each embedder: their scales differ.
    floors = {name: fusion.similarity_floor(0.5, name) for name in fusion.CALIBRATION}
    assert len(set(floors.values())) == len(floors) and floors["static"] > 0.45 > floors["sentence-transformers"]
    # OpenAI's embedder has no measurement of its own: it is read on MiniLM's scale when there is one,
    # and as a plain similarity otherwise.
    expected = fusion.CALIBRATION.get("sentence-transformers", (None,) * 21)[10] or 0.5
    assert fusion.similarity_floor(0.5, "openai") == expected
    assert fusion.similarity_floor(0.5, "unmeasured") == 0.5


def test_percentiles_are_measured_values_at_each_step():
    values = [i / 100 for i in range(101)]
    table = fusion.percentiles(values)
    assert table[0] == 0.0 and table[-1] == 1.0 and table[10] == 0.5
    assert fusion.percentiles([]) == ()


def _candidate(qid, kind, half, vector, text):
    return Candidates(Question(qid, kind, "?", qid, half=half), tuple(vector), tuple(text), "static")


def test_the_weight_is_chosen_on_the_tuning_half_alone():
    chunks = {f"{qid}-{n}": ChunkInfo(qid, "", "", n) for qid in ("a", "b", "c", "d") for n in range(3)}
    chunks.update({f"x{n}": ChunkInfo("other", "", "", n) for n in range(12)})
    noise = [(f"x{n}", 0.9 - n / 100) for n in range(12)]
    # Tuning: the vector half finds "a" only far down, the text half at once -> a text weight wins.
    tuning = [
        _candidate("a", "lexical", "tuning", noise[:6] + [("a-0", 0.5)], [("a-0", 9.0), ("x0", 1.0)]),
        _candidate("b", "paraphrased", "tuning", [("b-0", 0.95)] + noise[:6], []),
    ]
    # Held-out: the opposite (only the vector half finds them); it must not move the choice.
    held_out = [
        _candidate("c", "lexical", "held-out", [("c-0", 0.99)] + noise[:6], [(f"x{n}", 9.0 - n) for n in range(8)]),
        _candidate("d", "paraphrased", "held-out", [("d-0", 0.99)] + noise[:6], [(f"x{n}", 9.0 - n) for n in range(8)]),
    ]
    chosen = tune(tuning + held_out, chunks, k=1)
    alone = tune(tuning, chunks, k=1)
    assert chosen.weights == alone.weights and chosen.weights.text_weight(0.0) > 0
    figures = dict(chosen.rows)[chosen.weights]
    assert all(figures["tuning"][kind][0] == 1 for kind in KINDS)  # both tuning questions found at 1
    assert [label for label, _ in chosen.columns] == list(HALVES) and set(chosen.halves) == set(HALVES)
    # Another tuning set counts in the choice (the small set does in evaluate_rag): one where only
    # the vector half finds the answers pulls the weight below what lets the text half win.
    vector_only = [_candidate(c.question.id, c.question.kind, "", c.vector, c.text) for c in held_out]
    pulled = tune(tuning, chunks, k=1, also=[("small set", vector_only, chunks)])
    assert pulled.weights != chosen.weights
    assert [label for label, choosing in pulled.columns if choosing] == ["tuning", "small set"]


@pytest.mark.django_db
def test_the_settings_page_describes_the_threshold_as_it_works():
    form = RagSettingsForm(collections=[])
    help_text = str(form.fields["threshold"].help_text)
    assert "0.5 leaves out passages less similar to the question than half of the 30 nearest" in help_text
    assert "around 0.3" not in help_text


@pytest.mark.django_db
def test_a_threshold_leaves_out_the_less_similar_passages_but_not_word_matches(owner, settings):
    settings.EMBEDDER = "static"
    index_corpus(owner, load_corpus(LIBRARY_PATH).select(["tutorial-venv", "howto-sorting", "library-json"]))
    question = "How do I activate a virtual environment on Unix or MacOS?"
    everything = retrieve(user=owner, query=question, top_k=50, mode="vector", threshold=0)
    strict = retrieve(user=owner, query=question, top_k=50, mode="vector", threshold=0.9)
    floor = fusion.similarity_floor(0.9, "static")
    assert everything and len(strict) < len(everything)
    assert all(r.similarity >= floor for r in strict)
    assert any(r.similarity < floor for r in everything)
    # The user's setting is read the same way; passages found by their words stay in hybrid.
    with tenant(owner.id):
        RagSettings.objects.update_or_create(user=owner, defaults={"threshold": 1})
    hybrid = retrieve(user=owner, query=question)
    assert hybrid and all(r.text_rank is not None or r.similarity >= fusion.similarity_floor(1, "static")
                          for r in hybrid)


@pytest.mark.django_db
def test_tune_prints_every_weight_on_both_halves_and_the_chosen_one():
    out = io.StringIO()
    call_command("evaluate_rag", "--set", "library", "--documents", "tutorial-venv,library-json", "--embedder",
                 "static", "--tune", stdout=out)
    output = out.getvalue()
    assert "Fusion weights chosen on tuning data only (static)" in output
    assert "chosen on: tuning, small set; never on the held-out half" in output
    assert "<- chosen" in output and "vector half" in output and "text half" in output
    assert "(best constant weight)" in output and "Chosen: Weights(" in output
    assert "Calibration (percentiles 0, 5, ..., 100" in output


def test_a_document_gets_at_most_three_passages_before_the_others_have_their_turn():
    ranked = [("a1", "A"), ("a2", "A"), ("a3", "A"), ("a4", "A"), ("a5", "A"), ("b1", "B"), ("a6", "A"), ("c1", "C")]
    diversified = fusion.diversify(ranked, lambda item: item[1])
    assert [chunk for chunk, _ in diversified] == ["a1", "a2", "a3", "b1", "c1", "a4", "a5", "a6"]
    # One document alone keeps all its passages, in order; nothing is lost or repeated.
    alone = [(f"a{n}", "A") for n in range(8)]
    assert fusion.diversify(alone, lambda item: item[1]) == alone
    assert fusion.diversify([], lambda item: item) == []


def test_bm25_counts_as_the_share_of_the_question_a_passage_matches():
    # Divided by the question's ceiling, a text half whose best hit matches little of the question
    # moves the ranking little; divided by its best hit, it would count as a perfect match.
    vector = [("v1", 0.80), ("v2", 0.75), ("t1", 0.70), ("z", 0.60)]
    text = [("t1", 2.0), ("v2", 1.0)]
    by_ceiling = fusion.fuse(vector, text, text_weight=0.5, text_ceiling=20.0)
    by_best = fusion.fuse(vector, text, text_weight=0.5)
    scores = {chunk: score for chunk, score, *_ in by_ceiling}
    assert [chunk for chunk, *_ in by_ceiling] == ["v1", "v2", "t1", "z"]
    assert scores["t1"] == pytest.approx(0.5 * 0.5 + 0.5 * 2.0 / 20.0)
    assert scores["v1"] == pytest.approx(0.5 * 1.0)
    assert [chunk for chunk, *_ in by_best][0] == "t1"  # the best hit's own scale puts the weak match first
    # A score above the ceiling cannot happen with BM25; it is clipped, never more than a full match.
    clipped = fusion.fuse([], [("x", 30.0)], text_weight=0.5, text_ceiling=20.0)
    assert clipped[0][1] == pytest.approx(0.5)


@pytest.mark.django_db
def test_retrieve_does_not_let_one_document_fill_the_top_five(owner, settings):
    # The logging cookbook's every chunk speaks of logging to files; the HOWTO that answers the
    # question is found by its words, and must stay in the top five however many cookbook chunks
    # score near it.
    settings.EMBEDDER = "static"
    index_corpus(owner, load_corpus(LIBRARY_PATH).select(["howto-logging", "howto-logging-cookbook"]))
    results = retrieve(user=owner, query="How do I log to a file with basicConfig and a filename?", top_k=5)
    titles = [r.title for r in results]
    assert len(results) == 5 and len(set(titles)) == 2
    assert max(titles.count(title) for title in titles) <= fusion.PASSAGES_PER_DOCUMENT
    # With a single document in scope, every passage still comes back.
    cookbook = {r.document_id for r in results if "Cookbook" in r.title}
    only = retrieve(user=owner, query="How do I log to a file with basicConfig and a filename?", top_k=5,
                    document_ids=cookbook)
    assert len(only) == 5 and {r.document_id for r in only} == cookbook
