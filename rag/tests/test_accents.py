"""Accent-insensitive passages (rag migration 0009): a question typed without accents finds the
passage written with them, and the other way round, in both halves' languages; the statistics
hold the folded terms."""

from __future__ import annotations

import pytest
from django.db import connection

from core.tenancy import tenant
from rag.lexical import lexical_search
from rag.models import RagChunk
from rag.retrieval import retrieve
from rag.tests.test_bm25 import add_document, recount, stats

pytestmark = pytest.mark.django_db

SPANISH_ACCENTED = """# Configuración del router

La configuración inicial del router se hace desde la aplicación del fabricante. Después hay que
cambiar la contraseña del administrador y elegir un canal inalámbrico poco usado.

# Canción de cuna

La canción que más le gustaba al niño tenía tres estrofas y un estribillo que repetía la abuela.
"""

SPANISH_PLAIN = """# Pension de jubilacion

Para solicitar la pension hay que presentar la documentacion en la oficina con la cedula y el
numero de afiliacion. La resolucion llega por correo en unas semanas.
"""

ENGLISH = """# The corner café

The café on the corner roasts its own beans and serves a naïve little cake with every coffee.
"""

OTHER = """# Garden

Tomatoes need watering every other day in summer and a stake once they are knee high.
"""


def _best_heading(user, question):
    hits = lexical_search(user, question, 5)
    assert hits, question
    with tenant(user.id):
        return RagChunk.objects.get(id=hits[0][0]).heading


def test_a_question_without_accents_finds_the_passage_with_them(owner):
    document = add_document(owner, SPANISH_ACCENTED, title="Notas de casa")
    add_document(owner, OTHER, title="Garden")
    assert "Configuración" in _best_heading(owner, "configuracion del router")
    assert "Canción" in _best_heading(owner, "¿cual era la cancion de cuna?")
    assert "Configuración" in _best_heading(owner, "CONFIGURACION INICIAL")  # case folds too
    assert retrieve(user=owner, query="contrasena del administrador y configuracion", top_k=1)[0].document_id == str(document.id)


def test_a_question_with_accents_finds_the_passage_without_them(owner):
    add_document(owner, SPANISH_PLAIN, title="Trámites")
    add_document(owner, OTHER, title="Garden")
    assert "Pension" in _best_heading(owner, "¿Qué documentación pide la pensión de jubilación?")
    assert "Pension" in _best_heading(owner, "resolución de la afiliación")


def test_english_accents_fold_too(owner):
    add_document(owner, ENGLISH, title="Cafés")
    add_document(owner, OTHER, title="Garden")
    assert "café" in _best_heading(owner, "which cafe roasts its beans").lower()
    assert "café" in _best_heading(owner, "naive cake").lower()


def test_the_statistics_hold_the_folded_terms_and_n_with_tilde_stays(owner):
    add_document(owner, SPANISH_ACCENTED + "\nEl año pasado cambiamos el router.\n", title="Notas de casa")
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    spanish = {term for language, term in terms if language == "spanish"}
    assert {"configuracion", "cancion", "aplicacion"} <= spanish
    assert not {"configur", "canción", "aplic"} & spanish  # the accented forms' stems are not terms
    assert "año" in spanish and "ano" not in spanish  # "año" is not "ano"


def test_reanalysing_the_chunks_as_the_migration_does_keeps_the_statistics_exact(owner):
    add_document(owner, SPANISH_ACCENTED, title="Notas de casa")
    add_document(owner, ENGLISH, title="Cafés")
    before = stats(owner)
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("UPDATE rag_chunks SET search = search WHERE user_id = %s", [owner.id])
    assert stats(owner) == before == recount(owner)


def test_plain_ascii_is_returned_as_it_is_and_null_stays_null(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rag_fold_accents('Plain ASCII Text'), rag_fold_accents(NULL), "
                       "rag_fold_accents('ÁÉÍÓÚ Ü àèìòù âêîôû ç ñ Ñ')")
        assert cursor.fetchone() == ("Plain ASCII Text", None, "aeiou u aeiou aeiou c ñ ñ")
