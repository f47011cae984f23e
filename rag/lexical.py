"""The lexical half of retrieval: BM25 over the chunks' full-text vectors.

Each chunk's ``search`` tsvector is in its document's language (English, Spanish, or "simple"
when unknown; see ``rag.indexing``), with that language's stemming and stop words. A question is
analysed the same way: its language is told from its function words (``query_languages``), and it
is turned into lexemes by the same PostgreSQL text-search configuration, which then meet only the
chunks of that language. When the question's language is unclear it is analysed both ways, each
against its own chunks, with the words either language would drop removed first, so one
language's function words never become "rare terms" of the other's chunks.
Both sides fold accents first (``rag_fold_accents``, migration 0009), since the stemmers keep
them: "informacion" meets "información", "cafe" meets "café"; "ñ" stays.

Scoring is Okapi BM25 (k1 = 1.2, b = 0.75; IDF = ln(1 + (N - df + 0.5) / (df + 0.5))) with the
statistics the database keeps (migrations 0006 and 0007): per user and language, the chunk count ``N``, the
total length (for the average) and each term's document frequency ``df``; per chunk its length
``search_length``; a term's frequency in a chunk is the number of its positions in the tsvector.

Candidates come from the question's rarest terms first: terms are taken in order of df until
their postings hold about ``CANDIDATE_TARGET`` chunks; those chunks are scored on every term of
the question and ordered (score, then the chunk's text, title and position, then id), and only then is any bound applied. Then, as in
MaxScore, if the terms not taken could not lift a chunk that has none of the taken ones to the
``limit``-th score (a term adds less than ``IDF * (k1 + 1)``), the ranking is exact; otherwise the
next terms are taken, while their postings fit in ``CANDIDATE_BUDGET`` chunks. Past that budget
(a huge library asked about only common words) the ranking is exact over every chunk that has
one of the rarer terms, and chunks holding only the most common terms are left out. When even the
rarest term is in more chunks than the budget, the candidates are the chunks holding the question's
rarest terms together (as few terms as make the expected co-occurrence fit the budget, at least
two), unless fewer than ``limit`` do. Which chunks are left out depends on the data alone, never
on the physical order of rows or a query plan. The same
data and question give the same ranking, in any database holding it: scores are summed in term
order, and ties go by the chunk's text (its MD5), then by its document's title and its position,
then by chunk id (which differs between databases: two identical documents under the same title).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection

from core.tenancy import tenant
from core.text import STOP_WORDS, STOP_WORDS_EN, STOP_WORDS_ES, fold

K1 = 1.2
B = 0.75
CANDIDATES = 30
# Chunks the rarest terms' postings should hold before checking whether the ranking is exact (the
# target doubles each round), and the most chunks scored for one question unless the rarest term
# alone holds more (it is always scored in full): a bound on latency, applied to whole terms in df order. Scoring costs a few microseconds per
# chunk: at 100,000 chunks these keep BM25 within the latency of the ts_rank_cd half it replaced
# (bench/rag.py), and on the library-scale evaluation (3,600 chunks) a budget of 400 or 5,000 ranks
# every question the same.
CANDIDATE_TARGET = 200
CANDIDATE_BUDGET = 600

ENGLISH, SPANISH, SIMPLE = "english", "spanish", "simple"
LANGUAGES = (ENGLISH, SPANISH)

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")  # "o'neil" is one word, not Spanish "o" and "neil"
_SPANISH_ONLY = STOP_WORDS_ES - STOP_WORDS_EN
_ENGLISH_ONLY = STOP_WORDS_EN - STOP_WORDS_ES
_SPANISH_LETTERS = re.compile(r"[ñáéíóúü¿¡]", re.IGNORECASE)


def query_languages(question: str) -> tuple[str, ...]:
    """The text-search configurations to analyse ``question`` with: ("english",) or ("spanish",)
    when its function words (and Spanish letters and marks) say so, both when they do not."""
    words = [fold(w) for w in _WORD.findall(question)]
    spanish = sum(w in _SPANISH_ONLY for w in words) + (1 if _SPANISH_LETTERS.search(question) else 0)
    english = sum(w in _ENGLISH_ONLY for w in words)
    if spanish > english:
        return (SPANISH,)
    if english > spanish:
        return (ENGLISH,)
    return LANGUAGES


def _without_stop_words(question: str, stop_words: Collection[str]) -> str:
    return " ".join(w for w in _WORD.findall(question) if fold(w) not in stop_words)


def analysed_texts(question: str) -> dict[str, str]:
    """{configuration: the text to analyse with it}: the question as written for its language; the
    question without either language's stop words when the language is unclear (and for "simple"
    chunks, whose configuration drops none)."""
    question = unicodedata.normalize("NFC", question)  # the chunks' text is NFC (rag.extract.text)
    languages = query_languages(question)
    neutral = _without_stop_words(question, STOP_WORDS | STOP_WORDS_EN | STOP_WORDS_ES)
    texts = {language: (question if len(languages) == 1 else neutral) for language in languages}
    texts[SIMPLE] = neutral
    return texts


@dataclass(frozen=True)
class Term:
    language: str
    term: str
    df: int
    idf: float

    @property
    def upper_bound(self) -> float:
        """The most this term can add to a chunk's score (tf / (tf + K) < 1)."""
        return self.idf * (K1 + 1)


def idf(chunk_count: int, df: int) -> float:
    return math.log(1 + (chunk_count - df + 0.5) / (df + 0.5))


# In one round trip: the user's totals per language (chunk count, total length) and, for each, the
# question's lexemes in that configuration with their document frequency (terms no chunk holds are
# not returned: a language without any comes back once with a NULL term). The same statement turns
# sequential scans off for the rest of the transaction: scoring needs every matching chunk of a
# round, which the GIN index finds (the planner, seeing LIMIT, may otherwise bet on a sequential
# scan meeting enough matches early); ``bm25`` turns them on again.
TERMS_SQL = """
SELECT t.language, t.chunk_count, t.total_length, f.term, f.df, set_config('enable_seqscan', 'off', true)
  FROM rag_lexical_totals t
  LEFT JOIN LATERAL (
      SELECT q.term, s.df
        FROM (SELECT DISTINCT l.term
                FROM unnest(%(languages)s::text[], %(texts)s::text[]) AS a(language, body)
               CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(a.language::regconfig, rag_fold_accents(a.body)))) AS l(term)
               WHERE a.language = t.language) q
        JOIN rag_term_stats s ON s.user_id = t.user_id AND s.language = t.language AND s.term = q.term
  ) f ON true
 WHERE t.user_id = %(user)s AND t.chunk_count > 0
"""

# One round of candidates in one language: chunks holding any of this round's terms (through the
# GIN index on search) and none of the earlier rounds' (scored already), each scored on all of the
# question's terms of that language. A term's frequency is its number of positions: the query's
# terms are re-weighted D in a copy of the vector (the column's positions are all A or B) and
# filtered to that weight, so only they are unnested.
SCORE_SQL = """
SELECT t.id::text, t.score, md5(c.content) || md5(d.title) || lpad(c.position::text, 10, '0')
  FROM (
      SELECT c.id,
             sum(q.idf * u.tf / (u.tf + %(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * c.search_length / %(average)s::float8))
                 ORDER BY q.term) * (%(k1)s::float8 + 1) AS score
        FROM rag_chunks c
        JOIN rag_documents d ON d.id = c.document_id
       CROSS JOIN LATERAL (SELECT v.lexeme, coalesce(array_length(v.positions, 1), 1)::float8 AS tf
                             FROM unnest(ts_filter(setweight(c.search, 'D', %(terms)s::text[]), '{{d}}')) AS v) u
        JOIN unnest(%(terms)s::text[], %(idfs)s::float8[]) AS q(term, idf) ON q.term = u.lexeme
       WHERE c.user_id = %(user)s AND c.language = %(language)s AND d.status = 'INDEXED'
         AND c.search @@ %(match)s::tsquery {seen} {filters}
       GROUP BY c.id
       ORDER BY score DESC
       FETCH FIRST %(limit)s ROWS WITH TIES
  ) t
  JOIN rag_chunks c ON c.id = t.id
  JOIN rag_documents d ON d.id = c.document_id
"""


def tsquery(terms: Collection[str], operator: str = "|") -> str:
    """An OR (or, with ``operator="&"``, AND) query of these lexemes as they are (no further
    normalisation), for a ``::tsquery`` cast."""
    quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in sorted(terms))
    return f" {operator} ".join(quoted)


def document_filters(params: dict, *, collections=None, tags=None, document_ids: Collection[str] | None = None,
                     exclude_document_ids: Collection[str] | None = None) -> str:
    """SQL conditions on ``d`` (rag_documents) for retrieval's scope; fills ``params``. ``document_ids``
    not None: only those documents (an empty one: none)."""
    clauses = []
    if document_ids is not None:
        clauses.append("AND d.id = ANY(%(document_ids)s::uuid[])")
        params["document_ids"] = sorted(str(i) for i in document_ids)
    if exclude_document_ids:
        clauses.append("AND NOT (d.id = ANY(%(exclude_document_ids)s::uuid[]))")
        params["exclude_document_ids"] = sorted(str(i) for i in exclude_document_ids)
    if collections:
        clauses.append("AND d.collection = ANY(%(collections)s)")
        params["collections"] = list(collections)
    if tags:
        clauses.append("AND d.tags && %(tags)s::text[]")
        params["tags"] = list(tags)
    return " ".join(clauses)


@dataclass(frozen=True)
class LexicalResult:
    hits: list[tuple[str, float]]  # (chunk id, BM25 score), best first
    terms: list[Term]  # the question's terms that some chunk holds, rarest first
    taken: int  # how many of them generated candidates
    exact: bool  # True when no chunk outside the candidates could have ranked within the limit

    @property
    def ceiling(self) -> float:
        """The most any chunk could score for this question: its terms' bounds added up, in the
        language where they add up to most (a chunk meets the terms of its own language only)."""
        languages = {t.language for t in self.terms}
        return max((sum(t.upper_bound for t in self.terms if t.language == language) for language in languages),
                   default=0.0)


def lexical_search(user, query: str, limit: int = CANDIDATES, *, collections=None, tags=None,
                   document_ids: Collection[str] | None = None,
                   exclude_document_ids: Collection[str] | None = None) -> list[tuple[str, float]]:
    """The user's best ``limit`` chunks for ``query`` by BM25: [(chunk id, score)], best first
    (ties by the chunk's text, then id); only chunks of indexed documents within the scope."""
    return bm25(user, query, limit, collections=collections, tags=tags, document_ids=document_ids,
                exclude_document_ids=exclude_document_ids).hits


def question_terms(cursor, user, query: str) -> tuple[list[Term], dict[str, tuple[int, int]]]:
    """The question's terms that some chunk of the user holds, rarest first (ties by language, term),
    and the user's totals {language: (chunks, total length)}. Inside the user's tenant context; leaves
    sequential scans off for the transaction (see TERMS_SQL)."""
    texts = {language: text for language, text in analysed_texts(query).items() if text.strip()}
    cursor.execute(TERMS_SQL, {"user": user.id, "languages": list(texts), "texts": list(texts.values())})
    totals, found = {}, []
    for language, count, length, term, df, _ in cursor.fetchall():
        totals[language] = (count, length)
        if term is not None:
            found.append(Term(language, term, df, idf(count, df)))
    return sorted(found, key=lambda t: (t.df, t.language, t.term)), totals


def bm25(user, query: str, limit: int = CANDIDATES, *, collections=None, tags=None,
         document_ids: Collection[str] | None = None, exclude_document_ids: Collection[str] | None = None) -> LexicalResult:
    """``lexical_search`` with how it got there (the terms, how many generated candidates, exactness)."""
    empty = LexicalResult(hits=[], terms=[], taken=0, exact=True)
    if limit <= 0 or not query.strip() or (document_ids is not None and not document_ids):
        return empty
    with tenant(user.id), connection.cursor() as cursor:
        terms, totals = question_terms(cursor, user, query)
        if not terms:
            cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
            return empty
        scope: dict = {}
        filters = document_filters(scope, collections=collections, tags=tags, document_ids=document_ids,
                                   exclude_document_ids=exclude_document_ids)
        if terms[0].df > CANDIDATE_BUDGET:  # every term common: their rarest ones together first
            together = _together(cursor, user, terms, totals, limit, filters, scope)
            if together is not None:
                cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
                hits, taken = together
                return LexicalResult(hits=[(chunk_id, score) for chunk_id, score, _ in hits], terms=terms,
                                     taken=taken, exact=False)
        hits: list[tuple[str, float, str]] = []
        taken, postings, exact, target = 0, 0, False, CANDIDATE_TARGET
        while taken < len(terms):
            # A round: the next rarest terms while their postings stay within the round's target
            # (at least one term; the very rarest is always scored in full).
            start = taken
            while taken < len(terms) and (taken == start or postings + terms[taken].df <= min(target, CANDIDATE_BUDGET)):
                postings += terms[taken].df
                taken += 1
            hits = _merge(hits, _score_round(cursor, user, terms, start, taken, totals, limit, filters, scope), limit)
            exact = _exact(hits, terms[taken:], limit)
            if exact or taken >= len(terms) or postings + terms[taken].df > CANDIDATE_BUDGET:
                break
            target *= 2
        cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
    return LexicalResult(hits=[(chunk_id, score) for chunk_id, score, _ in hits], terms=terms, taken=taken,
                         exact=exact or taken == len(terms))


def _score_round(cursor, user, terms: list[Term], start: int, end: int, totals, limit, filters, scope) -> list[tuple[str, float, str]]:
    found = []
    for language in sorted({t.language for t in terms[start:end]}):
        cursor.execute(*round_query(user, language, terms, start, end, totals, limit, filters, scope))
        found.extend((chunk_id, float(score), text_key) for chunk_id, score, text_key in cursor.fetchall())
    return found


def round_query(user, language: str, terms: list[Term], start: int, end: int, totals, limit: int, filters: str = "",
                scope: dict | None = None, *, together: bool = False) -> tuple[str, dict]:
    """SCORE_SQL and its parameters for the chunks of ``language`` holding ``terms[start:end]`` (any of
    them, or all of them ``together``) and none of ``terms[:start]``, scored on all of that language's terms."""
    mine = [t for t in terms if t.language == language]
    new = [t.term for t in terms[start:end] if t.language == language]
    seen = [t.term for t in terms[:start] if t.language == language]
    count, length = totals[language]
    params = {
        **(scope or {}), "user": user.id, "language": language, "limit": limit, "k1": K1, "b": B,
        "average": max(length / count, 1.0), "terms": [t.term for t in mine], "idfs": [t.idf for t in mine],
        "match": tsquery(new, "&" if together else "|"), "seen": tsquery(seen),
    }
    return SCORE_SQL.format(seen="AND NOT (c.search @@ %(seen)s::tsquery)" if seen else "", filters=filters), params


def _together(cursor, user, terms: list[Term], totals, limit: int, filters: str, scope: dict):
    """When even the rarest term is in more than ``CANDIDATE_BUDGET`` chunks: per language, the chunks
    holding its k rarest terms together, k the fewest (at least two) whose expected co-occurrence
    (independent terms: N * df1/N * df2/N ...) fits the budget; scored on every term and ordered.
    (hits, terms taken), or None when that leaves fewer than ``limit`` chunks (or a language has a
    single term): then the rarest term is scored in full."""
    hits: list[tuple[str, float, str]] = []
    taken = 0
    for language in sorted({t.language for t in terms}):
        mine = [t for t in terms if t.language == language]
        if len(mine) < 2:
            return None
        count = totals[language][0]
        k, expected = 1, float(mine[0].df)
        while k < len(mine) and (k < 2 or expected > CANDIDATE_BUDGET):
            expected *= mine[k].df / count
            k += 1
        ordered = mine + [t for t in terms if t.language != language]
        cursor.execute(*round_query(user, language, ordered, 0, k, totals, limit, filters, scope, together=True))
        hits = _merge(hits, [(c, float(s), key) for c, s, key in cursor.fetchall()], limit)
        taken += k
    return (hits, taken) if len(hits) >= limit else None


def _merge(hits, more, limit) -> list[tuple[str, float, str]]:
    """The best ``limit`` of both: by score, then by the chunk's text, its document's title and its
    position (SCORE_SQL's key: the same data gets the same place in any database), then by id."""
    return sorted([*hits, *more], key=lambda hit: (-hit[1], hit[2], hit[0]))[:limit]


def _exact(hits, rest: list[Term], limit: int) -> bool:
    """Whether a chunk with none of the terms taken so far could still reach the top ``limit``: it
    scores below the sum of the bounds of its language's remaining terms."""
    if not rest:
        return True
    if len(hits) < limit:
        return False
    threshold = hits[-1][1]
    ceiling = max(sum(t.upper_bound for t in rest if t.language == language) for language in {t.language for t in rest})
    return ceiling <= threshold
