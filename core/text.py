"""Text utilities shared by every domain."""

from __future__ import annotations

import re
import unicodedata

# C0 controls and DEL, except tab, newline and carriage return. NUL cannot be stored in a
# PostgreSQL text column at all; the others can smuggle markup-like bytes into highlighted
# snippets and confuse terminals reading logs.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control_chars(text: str) -> str:
    """``text`` without C0 control characters (tab, newline and carriage return are kept)."""
    return _CONTROL_CHARS.sub("", text) if text else text


def has_control_chars(text: str) -> bool:
    return bool(text) and _CONTROL_CHARS.search(text) is not None


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``max_bytes`` (never splits a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


# --- words in English and Spanish: accent folding, stemming, stop words, language ----------------
# Two readers use these with different needs, kept apart by parameters: search features (rag's
# embedders, whose stored vectors depend on every detail here, so the defaults never change) and
# the offline chat model's keyword matching (``light`` stemming, ``lower()``, every mark dropped).

_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")


def fold(text: str, *, casefold: bool = True, every_mark: bool = False) -> str:
    """Lower-case, compatibility-decompose and drop accents ("Está" -> "esta").

    By default ``str.casefold`` and only the combining marks of U+0300-U+036F (what search features
    use); ``casefold=False`` lower-cases with ``str.lower`` and ``every_mark=True`` drops every
    combining character (what the offline model's keyword matching uses).
    """
    text = text.casefold() if casefold else text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if every_mark:
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return _LATIN_MARKS.sub("", decomposed)


# Search stemming (English and Spanish rules applied together): (suffix, replacement), tried
# longest first; the stem must keep at least three letters, four for the short, ambiguous endings
# (so that "order" and "ordering" both stay "order", and "reply" stays whole).
_SUFFIXES = sorted(
    [
        # Spanish
        ("amientos", ""), ("imientos", ""), ("amiento", ""), ("imiento", ""), ("aciones", ""), ("acion", ""),
        ("iciones", ""), ("icion", ""), ("mente", ""), ("ieron", ""), ("aron", ""), ("iendo", ""), ("ando", ""),
        ("amos", ""), ("emos", ""), ("imos", ""), ("ados", ""), ("adas", ""), ("idos", ""), ("idas", ""),
        ("aban", ""), ("aba", ""), ("ado", ""), ("ada", ""), ("ido", ""), ("ida", ""), ("idad", ""),
        ("idades", ""), ("ar", ""), ("er", ""), ("ir", ""),
        # English
        ("ations", ""), ("ation", ""), ("ities", ""), ("ity", ""), ("ingly", ""), ("edly", ""), ("ments", ""),
        ("ment", ""), ("ness", ""), ("ing", ""), ("ied", "y"), ("ies", "y"), ("ed", ""), ("ly", ""),
        ("sses", "ss"),
    ],
    key=lambda rule: -len(rule[0]),
)
_MIN_STEM = {"ar": 4, "er": 4, "ir": 4, "ly": 4, "ment": 4, "ments": 4}
_DOUBLE_CONSONANT = re.compile(r"([bcdfgkmnprt])\1$")
# Light stemming (keyword matching), longest suffix first; plural "s" and a final "e" are handled after.
_LIGHT_SUFFIXES = ("amientos", "imientos", "amiento", "imiento", "aciones", "ations", "ciones", "mente",
                   "ation", "cion", "ings", "ness", "edly", "ing", "ed", "ly")


def stem_word(word: str, *, light: bool = False) -> str:
    """Strip common inflections of a folded word; deterministic and crude.

    By default up to three rounds of the search rules (used to build search features); ``light``
    strips one suffix, a plural "s" and a final "e" (keyword matching).
    """
    if light:
        return _stem_light(word)
    if len(word) <= 3 or not word.isalpha():
        return word
    for _round in range(3):
        stripped = _strip_once(word)
        if stripped == word:
            break
        word = stripped
    return word


def _strip_once(word: str) -> str:
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM.get(suffix, 3):
            stem = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and _DOUBLE_CONSONANT.search(stem):
                stem = stem[:-1]  # beginning -> beginn -> begin
            return stem
    if word.endswith("es") and word[-3] in "sxz" and len(word) > 4:
        return word[:-2]
    if word.endswith(("ches", "shes")) and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and word[-2] not in "siu" and len(word) > 3:
        return word[:-1]
    if word[-1] in "aeo" and len(word) >= 5:
        return word[:-1]
    return word


def _stem_light(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in _LIGHT_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:  # passage/passages, ciudad/ciudades
        word = word[:-1]
    return word


# Stop words, written without accents (they are compared with folded words). STOP_WORDS is the
# wide list search drops; the per-language ones pick keywords and tell the languages apart.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else ever every few for
    from further get gets got had has have having he her here hers herself him himself his how i if in into
    is it its itself just let lets me more most much must my myself neither no nor not now of off often on
    once only or other our ours ourselves out over own per please quite rather really same shall she should
    so some such than that the their theirs them themselves then there these they this those though through
    thus to too under until up upon us very via was we were what whatever when where whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
    el la lo los las un una unos unas al del de y e o u ni que en con por para sin sobre entre hasta desde
    hacia segun tras durante mediante es son ser fue fueron era eran sera seran sido siendo soy eres somos
    esta estan estoy estas estamos estaba estaban estado este esto estos ese esa eso esos esas aquel aquella
    aquello aquellos aquellas hay ha han he has hemos habia habian haber hace hacen como cuando donde
    cual cuales quien quienes cuyo cuya porque pues si no ya muy mas menos tan tanto tambien pero sino
    aunque mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra me te se nos os le les
    yo ella ellos ellas nosotros nosotras vosotros usted ustedes mio tuyo suyo algo alguien alguno alguna
    algunos algunas ningun ninguna nada cada otro otra otros otras mismo misma todo toda todos todas
    puede pueden puedo debe deben debo
    """.split()
)
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
_WORD = re.compile(r"\w+")


def detect_language(text: str) -> str:
    """ "es" when the text is clearly Spanish (more Spanish than English markers), else "en"."""
    words = [fold(w, casefold=False, every_mark=True) for w in _WORD.findall(text)]
    spanish = sum(w in _SPANISH_MARKERS for w in words) + (2 if "¿" in text or "¡" in text else 0)
    english = sum(w in _ENGLISH_MARKERS for w in words)
    return "es" if spanish > english else "en"
