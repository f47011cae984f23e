"""BM25 (rag.lexical): the statistics the database keeps, the ranking against a brute-force BM25,
the cap-and-order defect of the old full-text half, determinism, and the two languages."""

from __future__ import annotations

import hashlib
import math
import random

import pytest
from django.db import connection

from core.tenancy import tenant
from rag import indexing, lexical
from rag.lexical import K1, B, bm25, lexical_search, query_languages
from rag.models import RagChunk, RagDocument, Status
from rag.retrieval import retrieve, text_search

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------------------


def stats(user):
    """What the database keeps: ({(language, term): df}, {language: (chunks, total length)})."""
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT language, term, df FROM rag_term_stats WHERE user_id = %s", [user.id])
        terms = {(language, term): df for language, term, df in cursor.fetchall()}
        cursor.execute("SELECT language, chunk_count, total_length FROM rag_lexical_totals WHERE user_id = %s AND chunk_count > 0",
                       [user.id])
        totals = {language: (count, length) for language, count, length in cursor.fetchall()}
    return terms, totals


def recount(user):
    """The same statistics computed from the chunks themselves, without the stored length column."""
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT c.language, l.term, count(*) FROM rag_chunks c, unnest(tsvector_to_array(c.search)) l(term) "
                       "WHERE c.user_id = %s GROUP BY 1, 2", [user.id])
        terms = {(language, term): df for language, term, df in cursor.fetchall()}
        cursor.execute("SELECT c.language, count(DISTINCT c.id), coalesce(sum(array_length(v.positions, 1)), 0) "
                       "FROM rag_chunks c LEFT JOIN LATERAL unnest(c.search) v ON true WHERE c.user_id = %s GROUP BY 1",
                       [user.id])
        totals = {language: (count, length) for language, count, length in cursor.fetchall()}
    return terms, totals


def add_document(user, text, title="Notes"):
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title=title, source="PASTE", content=text)
    indexing.index_document(user_id=user.id, document_id=document.id)
    with tenant(user.id):
        document.refresh_from_db()
    assert document.status == Status.INDEXED, document.error_message
    return document


def bulk_chunks(user, title, texts, language="english"):
    """A document with these chunks, written directly (fast, for big libraries)."""
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title=title, source="PASTE", status=Status.INDEXED, indexed=True)
        RagChunk.objects.bulk_create([RagChunk(user=user, document=document, position=i, content=text, language=language)
                                      for i, text in enumerate(texts)])
    return document


def positions(user, hits):
    """(title, position) of each hit: what a ranking means in any database."""
    with tenant(user.id):
        rows = {str(c.id): (c.document.title, c.position)
                for c in RagChunk.objects.select_related("document").filter(id__in=[h[0] for h in hits])}
    return [rows[chunk_id] for chunk_id, _ in hits]


def brute_force(user, query, limit):
    """BM25 over every chunk of the user, in Python, from the chunks' vectors and a recount."""
    terms, totals = recount(user)
    wanted = {}
    for language, text in lexical.analysed_texts(query).items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT unnest(tsvector_to_array(to_tsvector(%s::regconfig, rag_fold_accents(%s))))", [language, text])
            wanted[language] = {row[0] for row in cursor.fetchall()}
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT c.id::text, c.language, md5(c.content), v.lexeme, array_length(v.positions, 1) "
                       "FROM rag_chunks c CROSS JOIN LATERAL unnest(c.search) v WHERE c.user_id = %s", [user.id])
        rows = cursor.fetchall()
    lengths, keys, tfs = {}, {}, {}
    for chunk_id, language, key, lexeme, tf in rows:
        lengths[chunk_id] = lengths.get(chunk_id, 0) + tf
        keys[chunk_id] = key
        if lexeme in wanted.get(language, ()):
            tfs.setdefault(chunk_id, {})[lexeme] = (language, tf)
    scores = {}
    for chunk_id, found in tfs.items():
        score = 0.0
        for lexeme, (language, tf) in sorted(found.items()):
            count, total = totals[language]
            df = terms[(language, lexeme)]
            weight = math.log(1 + (count - df + 0.5) / (df + 0.5))
            score += weight * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[chunk_id] / (total / count)))
        scores[chunk_id] = score
    return sorted(scores.items(), key=lambda item: (-item[1], keys[item[0]], item[0]))[:limit]


# --- the statistics ------------------------------------------------------------------------------------


def test_statistics_follow_documents_added_and_deleted(owner):
    assert stats(owner) == ({}, {})
    first = add_document(owner, "# Orchard\n\nThe apple trees need pruning in winter. Apples ripen in autumn.")
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert terms[("english", "appl")] == 1 and terms[("english", "prune")] == 1
    assert ("english", "the") not in terms and ("english", "in") not in terms  # English stop words are not terms
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT search_length FROM rag_chunks WHERE document_id = %s", [first.id])
        lengths = [row[0] for row in cursor.fetchall()]
    assert totals == {"english": (len(lengths), sum(lengths))}

    second = add_document(owner, "# Cider\n\nPress the apples, then let the juice ferment for weeks.", title="Cider")
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert terms[("english", "appl")] == 2 and terms[("english", "ferment")] == 1

    spanish = add_document(owner, "# Huerto\n\nLas manzanas se recogen en otoño y se guardan en un lugar fresco.",
                           title="Huerto")
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert spanish.chunk_count == 1 and terms[("spanish", "manzan")] == 1 and set(totals) == {"english", "spanish"}
    assert ("spanish", "las") not in terms  # Spanish stop words either

    with tenant(owner.id):
        RagDocument.objects.filter(pk=second.pk).delete()  # the database cascades to the chunks
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert terms[("english", "appl")] == 1 and ("english", "ferment") not in terms  # gone with its last chunk

    indexing.index_document(user_id=owner.id, document_id=first.id)  # re-indexing: delete and insert again
    assert stats(owner) == recount(owner)
    with tenant(owner.id):
        RagDocument.objects.filter(pk__in=[first.pk, spanish.pk]).delete()
    assert stats(owner) == ({}, {}) == recount(owner)


def test_an_edited_chunk_moves_its_counts(owner):
    document = bulk_chunks(owner, "Notes", ["red bicycle", "blue bicycle"])
    with tenant(owner.id):
        RagChunk.objects.filter(document=document, position=0).update(content="green tricycle tricycle")
        RagChunk.objects.filter(document=document, position=1).update(language="spanish")
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert ("english", "red") not in terms and terms[("english", "tricycl")] == 1
    assert totals["english"] == (1, 3)


def test_a_failed_indexing_leaves_the_statistics_as_they_were(owner):
    add_document(owner, "# Kept\n\nThe lighthouse keeper logs every ship.")
    before = stats(owner)
    with tenant(owner.id):
        empty = RagDocument.objects.create(user=owner, title="Empty", source="PASTE", content="   ")
    indexing.index_document(user_id=owner.id, document_id=empty.id)
    with tenant(owner.id):
        assert RagDocument.objects.get(pk=empty.pk).status == Status.FAILED
    assert stats(owner) == before == recount(owner)


def test_statistics_are_per_user(owner, other):
    add_document(owner, "# Mine\n\nThe zeppelin hangar is near the harbour.")
    add_document(other, "# Theirs\n\nA zeppelin and another zeppelin flew over the zeppelin field.")
    assert stats(owner) == recount(owner)
    assert stats(other) == recount(other)
    assert stats(owner)[0][("english", "zeppelin")] == 1


def test_statistics_rows_are_kept_apart_by_row_level_security(owner, other):
    add_document(owner, "# Mine\n\nThe zeppelin hangar is near the harbour.")
    with tenant(other.id), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rag_term_stats WHERE user_id = %s", [owner.id])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM rag_lexical_totals")
        assert cursor.fetchone()[0] == 0
        cursor.execute("UPDATE rag_term_stats SET df = df + 1 WHERE user_id = %s", [owner.id])
        assert cursor.rowcount == 0
    with connection.cursor() as cursor:  # no tenant: nothing
        cursor.execute("SELECT count(*) FROM rag_term_stats")
        assert cursor.fetchone()[0] == 0
    from django.db import DatabaseError

    with pytest.raises(DatabaseError) as failure, tenant(other.id), connection.cursor() as cursor:
        cursor.execute("INSERT INTO rag_term_stats (user_id, language, term, df) VALUES (%s, 'english', 'forged', 1)",
                       [owner.id])
    assert failure.value.__cause__.sqlstate == "42501"
    assert lexical_search(other, "zeppelin hangar") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False  # the runtime role, as in production


# --- the ranking -----------------------------------------------------------------------------------------


def _synthetic_library(user, rng, documents=12, chunks=40):
    words = [f"w{i:03d}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(len(words))]
    for d in range(documents):
        texts = [" ".join(rng.choices(words, weights=weights, k=rng.randint(5, 60))) for _ in range(chunks)]
        bulk_chunks(user, f"Document {d}", texts, language="simple")
    return words


def test_the_ranking_is_bm25_over_every_chunk(owner):
    rng = random.Random(5)
    words = _synthetic_library(owner, rng)
    exact = 0
    for _ in range(40):
        question = " ".join(rng.sample(words[:150], rng.randint(1, 5)))
        result = bm25(owner, question, 10)
        expected = brute_force(owner, question, 10)
        assert [h[0] for h in result.hits] == [h[0] for h in expected], question
        assert [round(h[1], 9) for h in result.hits] == [round(h[1], 9) for h in expected]
        exact += result.exact
    assert exact == 40


def test_candidates_come_from_the_rarest_terms_and_the_rest_only_when_needed(owner, monkeypatch):
    # 600 chunks with the common word, 3 with the rare one: the rare term is taken alone, and since a
    # chunk holding only "garden" could not reach the tenth score, the common term never generates.
    monkeypatch.setattr(lexical, "CANDIDATE_TARGET", 200)
    monkeypatch.setattr(lexical, "CANDIDATE_BUDGET", 5000)
    texts = [f"garden note {i}" for i in range(600)] + ["garden zeppelin", "zeppelin hangar", "zeppelin ride"]
    bulk_chunks(owner, "Notes", texts)
    result = bm25(owner, "garden zeppelin", 3)
    assert [t.term for t in result.terms] == ["zeppelin", "garden"] and result.taken == 1 and result.exact
    assert positions(owner, result.hits)[0] == ("Notes", 600)  # both words
    # Asked for more than the rare term can fill, the common term is taken as well.
    result = bm25(owner, "garden zeppelin", 10)
    assert result.taken == 2 and result.exact and len(result.hits) == 10
    assert [h[0] for h in result.hits] == [h[0] for h in brute_force(owner, "garden zeppelin", 10)]
    # Past the budget the common term is left out, and the ranking says it is not exact.
    monkeypatch.setattr(lexical, "CANDIDATE_BUDGET", 100)
    result = bm25(owner, "garden zeppelin", 10)
    assert result.taken == 1 and not result.exact and len(result.hits) == 3


def test_more_matches_than_any_bound_and_the_right_document_uploaded_last(owner):
    """The old half ranked only the first 300 matching chunks in no particular order, so a document
    added last was hard to reach. Here 5,200 chunks match the question's common words."""
    filler = [f"Weekly garden report {i}: the garden beds, the garden paths and the weekly garden budget."
              for i in range(5200)]
    bulk_chunks(owner, "Garden diary", filler)
    target = add_document(owner, "# Watering\n\nThe weekly garden watering schedule: water the garden at dawn.",
                          title="Watering schedule")
    for question in ("weekly garden watering schedule", "When should I water the garden?"):
        hits = lexical_search(owner, question, 5)
        assert positions(owner, hits)[0] == ("Watering schedule", 0), question
        assert retrieve(user=owner, query=question, top_k=1, mode="text")[0].document_id == str(target.id)
        assert retrieve(user=owner, query=question, top_k=3)[0].document_id == str(target.id)
    # Only common words (each in more chunks than the budget): the chunks holding them together are
    # all scored; the short chunk dense in them wins wherever it was stored.
    bulk_chunks(owner, "Zz last", ["garden budget garden budget"])
    assert positions(owner, lexical_search(owner, "garden budget", 3))[0] == ("Zz last", 0)


def test_scope_is_applied_before_any_bound(owner):
    first = bulk_chunks(owner, "First", [f"garden zeppelin {i}" for i in range(50)])
    second = bulk_chunks(owner, "Second", ["garden"] * 5)
    hits = lexical_search(owner, "garden zeppelin", 10, document_ids=[second.id])
    assert len(hits) == 5 and {p[0] for p in positions(owner, hits)} == {"Second"}
    assert {p[0] for p in positions(owner, lexical_search(owner, "garden zeppelin", 60, exclude_document_ids=[first.id]))} == {"Second"}
    assert lexical_search(owner, "garden", 10, document_ids=[]) == []
    assert text_search(user=owner, query="garden zeppelin", document_ids=[second.id], limit=3) == hits[:3]


def test_chunks_of_documents_not_indexed_are_not_returned(owner):
    document = bulk_chunks(owner, "Notes", ["zeppelin hangar"])
    with tenant(owner.id):
        RagDocument.objects.filter(pk=document.pk).update(status=Status.INDEXING)
    assert lexical_search(owner, "zeppelin") == []


# --- determinism ----------------------------------------------------------------------------------------


def test_the_same_data_and_question_give_the_same_ranking(owner, other):
    rng = random.Random(11)
    _synthetic_library(owner, rng, documents=6, chunks=30)
    rng = random.Random(11)
    _synthetic_library(other, rng, documents=6, chunks=30)  # the same texts, other ids: a fresh library
    questions = ["w001 w007 w020", "w003", "w010 w011 w012 w013 w014", "w000 w001"]
    for question in questions:
        first = lexical_search(owner, question, 15)
        assert lexical_search(owner, question, 15) == first
        assert positions(owner, first) == positions(other, lexical_search(other, question, 15))
    # Deleted and added again (new ids, rows elsewhere in the table): the same ranking.
    before = {q: positions(owner, lexical_search(owner, q, 15)) for q in questions}
    with tenant(owner.id):
        RagDocument.objects.filter(user=owner).delete()
    _synthetic_library(owner, random.Random(11), documents=6, chunks=30)
    assert {q: positions(owner, lexical_search(owner, q, 15)) for q in questions} == before


def test_equal_scores_are_ordered_by_text_not_by_storage(owner):
    texts = ["zeppelin alpha", "zeppelin bravo", "zeppelin charlie", "zeppelin delta"]
    bulk_chunks(owner, "Notes", texts)
    hits = lexical_search(owner, "zeppelin", 4)
    assert len({h[1] for h in hits}) == 1  # all tied
    by_text = sorted(texts, key=lambda t: hashlib.md5(t.encode()).hexdigest())
    assert [p[1] for p in positions(owner, hits)] == [texts.index(t) for t in by_text]


def test_the_same_text_in_two_documents_is_ordered_by_title_then_position_in_any_database(owner, other):
    # Boilerplate repeated across documents ties on score and on text: which comes first must not
    # depend on the ids a database happened to give (uploaded in the other order for the other user).
    for user, titles in ((owner, ("Zulu notes", "Alpha notes")), (other, ("Alpha notes", "Zulu notes"))):
        for title in titles:
            bulk_chunks(user, title, ["quokka habitat", "quokka habitat", "something else"])
    expected = [("Alpha notes", 0), ("Alpha notes", 1), ("Zulu notes", 0), ("Zulu notes", 1)]
    assert positions(owner, lexical_search(owner, "quokka habitat", 4)) == expected
    assert positions(other, lexical_search(other, "quokka habitat", 4)) == expected


def test_the_ceiling_is_what_a_chunk_could_score_at_most(owner):
    bulk_chunks(owner, "Notes", ["quokka habitat island", "habitat loss", "island ferry timetable", "quokka"])
    result = bm25(owner, "quokka habitat", 4)
    assert {t.term for t in result.terms} == {"quokka", "habitat"}
    assert result.ceiling == pytest.approx(sum(t.idf * (K1 + 1) for t in result.terms))
    assert all(0 < score < result.ceiling for _, score in result.hits)
    assert bm25(owner, "nothing matches here zzz", 4).ceiling == 0.0


# --- languages ---------------------------------------------------------------------------------------------


def test_the_question_language_is_told_per_question():
    assert query_languages("How do I rotate the encryption keys?") == ("english",)
    assert query_languages("¿Cómo roto las claves de cifrado?") == ("spanish",)
    assert query_languages("configurar la réplica lógica") == ("spanish",)
    assert query_languages("pgvector HNSW ef_search") == ("english", "spanish")  # unsure: both
    assert query_languages("o'neil notes") == ("english", "spanish")  # no Spanish "o" in "o'neil"
    texts = lexical.analysed_texts("pgvector HNSW ef_search")
    assert set(texts) == {"english", "spanish", "simple"}
    # Unsure, neither language's function words are searched in the other's chunks.
    assert lexical.analysed_texts("the casa, la HNSW")["english"] == "casa HNSW"


SPANISH_GUIDE = """# Guía del huerto

## Riego

Las tomateras se riegan por la mañana, con agua tibia y sin mojar las hojas. En verano conviene regar
cada dos días; en invierno basta una vez por semana. El riego por goteo ahorra agua y evita hongos.

## Poda

Para podar las tomateras, corta los chupones que salen entre el tallo y las ramas cuando miden unos
centímetros. Una poda temprana da frutos más grandes.
"""

ENGLISH_GUIDE = """# Garden guide

## Watering

Tomato plants are watered in the morning, with lukewarm water and without wetting the leaves. In summer
water every other day; in winter once a week is enough. Drip irrigation saves water and prevents fungus.

## Pruning

To prune tomato plants, pinch out the suckers that grow between the stem and the branches while they are a
few centimetres long. Early pruning gives bigger fruit.
"""


def test_spanish_and_english_documents_each_found_by_a_question_in_its_language(owner):
    spanish = add_document(owner, SPANISH_GUIDE, title="Guía del huerto")
    english = add_document(owner, ENGLISH_GUIDE, title="Garden guide")
    with tenant(owner.id):
        assert set(RagChunk.objects.filter(document=spanish).values_list("language", flat=True)) == {"spanish"}
        assert set(RagChunk.objects.filter(document=english).values_list("language", flat=True)) == {"english"}
    cases = [
        ("¿Cómo se podan las tomateras?", spanish, "Poda"),
        ("¿Cada cuánto riego las tomateras en verano?", spanish, "Riego"),
        ("How do I prune tomato plants?", english, "Pruning"),
        ("How often should I water tomatoes in summer?", english, "Watering"),
    ]
    for question, document, heading in cases:
        hits = lexical_search(owner, question, 5)
        assert hits, question
        with tenant(owner.id):
            best = RagChunk.objects.get(id=hits[0][0])
        assert best.document_id == document.id and heading in best.heading, (question, best.heading)
        # Only the question's language: no chunk of the other one comes back from the lexical half.
        with tenant(owner.id):
            assert {str(c) for c in RagChunk.objects.filter(id__in=[h[0] for h in hits]).values_list("document_id", flat=True)} == {
                str(document.id)}
        assert retrieve(user=owner, query=question, top_k=1)[0].document_id == str(document.id), question


def test_odd_questions_answer_without_errors(owner):
    bulk_chunks(owner, "Notes", ["The path C:\\Users\\o'neil holds it", "O'Neil's notes: 100% done; x=1 & y=2 | z!"])
    for question in ("C:\\Users\\o'neil", "o'neil's notes", "100% & | ! ( ) : * ' \\", "'; DROP TABLE rag_chunks; --",
                     "¿?", "the of and", "", "   ", "x" * 5000, "naïve café"):
        hits = lexical_search(owner, question, 5)
        assert all(isinstance(score, float) and score > 0 for _, score in hits), question
    assert positions(owner, lexical_search(owner, "o'neil notes", 1)) == [("Notes", 1)]


def test_when_every_term_is_common_their_rarest_are_taken_together(owner, monkeypatch):
    monkeypatch.setattr(lexical, "CANDIDATE_BUDGET", 50)
    texts = ([f"alpha filler {i}" for i in range(100)] + [f"beta filler {i}" for i in range(100)]
             + [f"alpha beta {i}" for i in range(60)])
    bulk_chunks(owner, "Notes", texts)
    result = bm25(owner, "alpha beta", 10)
    assert result.taken == 2 and not result.exact
    assert all(texts[p].startswith("alpha beta") for _, p in positions(owner, result.hits))
    assert [h[0] for h in result.hits] == [h[0] for h in brute_force(owner, "alpha beta", 10)]
    # Fewer chunks hold them together than asked for: the rarest term is scored in full instead.
    hits = lexical_search(owner, "alpha beta", 100)
    assert len(hits) == 100 and sum(texts[p].startswith("alpha beta") for _, p in positions(owner, hits)) == 60
