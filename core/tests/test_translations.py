"""The Spanish catalogue: complete, compiled, placeholders intact, and actually served."""

import re
from collections import Counter

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

PO_PATH = settings.BASE_DIR / "locale/es/LC_MESSAGES/django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# printf-style conversions as Python's % operator reads them: %s, %(name)s, %(size)d, %(name)r, %%, ...
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO_PATH))


def _nplurals(catalogue) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", catalogue.metadata.get("Plural-Forms", ""))
    assert match, "the Spanish catalogue has no Plural-Forms header"
    return int(match[1])


def _label(entry) -> str:
    return f"{entry.msgid!r} ({', '.join(f'{path}:{line}' for path, line in entry.occurrences[:2])})"


def _pairs(entries) -> dict:
    """(context, msgid, msgid_plural) → the translation(s), for every translated entry but the header."""
    pairs = {}
    for entry in entries:
        if not entry.msgid:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
        if entry.msgid_plural:
            pairs[key] = tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural, key=int))
        else:
            pairs[key] = entry.msgstr
    return pairs


def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(po):
    assert len(po) > 0
    assert [_label(e) for e in po.untranslated_entries()] == []
    assert [_label(e) for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"
    assert po.percent_translated() == 100


def test_plural_entries_fill_every_plural_form(po):
    nplurals = _nplurals(po)
    plurals = [e for e in po if e.msgid_plural and not e.obsolete]
    assert plurals, "expected plural entries (blocktranslate count / ngettext)"
    for entry in plurals:
        forms = {int(i): text for i, text in entry.msgstr_plural.items()}
        assert sorted(forms) == list(range(nplurals)), _label(entry)
        assert all(text.strip() for text in forms.values()), _label(entry)


def test_compiled_catalogue_matches_the_po_file(po):
    assert MO_PATH.exists(), "run: manage.py compilemessages --ignore=.venv"
    mo = polib.mofile(str(MO_PATH))
    expected = _pairs(e for e in po if not e.obsolete and "fuzzy" not in e.flags and e.translated())
    compiled = _pairs(mo)
    missing = sorted(str(k[1]) for k in expected.keys() - compiled.keys())
    stale = sorted(str(k[1]) for k in compiled.keys() - expected.keys())
    changed = sorted(str(k[1]) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert (missing, stale, changed) == ([], [], []), "django.mo is out of date: run compilemessages"
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


def _placeholders(text: str, flags) -> Counter:
    found = Counter()
    if "python-format" in flags:
        found.update(PERCENT_PLACEHOLDER.findall(text))
    if "python-brace-format" in flags:
        found.update(BRACE_PLACEHOLDER.findall(text))
    return found


def test_placeholders_match_between_source_and_translation(po):
    mismatches = []
    for entry in po:
        if entry.obsolete or not ({"python-format", "python-brace-format"} & set(entry.flags)):
            continue
        if entry.msgid_plural:
            pairs = [(entry.msgid if int(i) == 0 else entry.msgid_plural, text) for i, text in entry.msgstr_plural.items()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, text in pairs:
            if _placeholders(source, entry.flags) != _placeholders(text, entry.flags):
                mismatches.append(f"{_label(entry)} → {text!r}")
    assert mismatches == []


def test_surrounding_whitespace_is_kept(po):
    def edges(text):
        return (text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :])

    wrong = []
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        wrong += [_label(entry) for text in texts if edges(text) != edges(entry.msgid)]
    assert wrong == []


def test_python_strings_translate_with_spanish_plurals():
    with translation.override("es"):
        assert translation.gettext("Conversations") == "Conversaciones"
        assert translation.ngettext("%(counter)s agent", "%(counter)s agents", 1) % {"counter": 1} == "1 agente"
        assert translation.ngettext("%(counter)s agent", "%(counter)s agents", 3) % {"counter": 3} == "3 agentes"
        # Spanish has a third plural form (for millions): it must be filled too, not fall back to English.
        many = translation.ngettext("%(counter)s document", "%(counter)s documents", 1_000_000)
        assert many % {"counter": "1000000"} == "1000000 documentos"


@pytest.mark.django_db
def test_sign_in_page_speaks_spanish(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    assert "Iniciar sesión" in html


@pytest.mark.django_db
def test_signed_in_pages_speak_spanish(owner_client):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    home = owner_client.get(reverse("home"))
    assert home.status_code == 200
    html = home.content.decode()
    for label in ("Conversaciones", "Documentos", "Agentes", "Uso", "Configuración", "Cerrar sesión"):
        assert label in html, label
    assert "Conversaciones recientes" in html

    pages = {
        reverse("chats:list"): "Nueva conversación",
        reverse("agents:catalog"): "Crear agente",
        reverse("rag:list"): "Agregar un documento",
        reverse("metrics:usage"): "Resumen",
    }
    for url, text in pages.items():
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


@pytest.mark.django_db
def test_accept_language_works_for_signed_in_users(owner_client):
    html = owner_client.get(reverse("chats:list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Aún no hay conversaciones." in html
    assert "No conversations yet." not in html
