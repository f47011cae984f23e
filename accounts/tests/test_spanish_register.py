"""allauth's pages speak Spanish in tú, like the rest of the app, not in allauth's own usted (issue 07 item 11).

Our catalogue overrides allauth's Spanish for the msgids listed in accounts/allauth_strings.py; these tests render
the pages a visitor and a signed-in user see, in Spanish, and read their text as a person would.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core import mail

from testutils.testing import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db

# Words that only usted Spanish uses (imperatives, "su/sus" for "your", "¿Ha olvidado…?", "desea"...).
USTED = re.compile(
    r"\busted(es)?\b|\bsus?\b|\bInicie\b|\bIngrese\b|\bIntroduzca\b|\bEscriba\b|\bUtilice\b|\bVerifique\b"
    r"|\bConfirme\b|\bHaga clic\b|\bSiga\b|\bPóngase\b|\bcontáctenos\b|\bRegístrese\b|\bSolicite\b|\bVuelva\b"
    r"|\bEscanee\b|¿Ha olvidado|\bOlvidó\b|\bdesea\b|¿Está seguro|\bEstá a punto\b|\bHa (iniciado|cerrado|confirmado)\b"
    r"|\bNo puede (añadir|eliminar|activar|desconectar)\b|\bque ha indicado\b",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    """What a person reads: text nodes (not scripts or styles) and the attributes a browser shows."""

    SHOWN = ("placeholder", "title", "aria-label", "alt")
    INLINE = {"a", "abbr", "b", "code", "em", "i", "kbd", "label", "q", "s", "small", "span", "strong", "sub", "sup", "u"}
    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag not in self.INLINE:
            self.parts.append(" ")
        attrs = dict(attrs)
        shown = [attrs[name] for name in self.SHOWN if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            shown.append(attrs["value"])
        self.parts += [f" {value} " for value in shown]

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(response) -> str:
    assert response.status_code == 200, response.status_code
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def assert_tu(text: str, *expected: str) -> None:
    usted = sorted({m.group(0) for m in USTED.finditer(text)})
    assert usted == [], f"usted on the page: {usted}\n{text}"
    for phrase in expected:
        assert phrase in text, f"{phrase!r} not on the page:\n{text}"


@pytest.fixture
def spanish(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client


@pytest.fixture
def spanish_user():
    user = make_user("tu@example.com", name="Tomás Tú")
    browser = client_for(user)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return browser


def test_sign_in_page(spanish):
    text = visible_text(spanish.get("/accounts/login/"))
    assert_tu(text, "Iniciar sesión", "Contraseña", "¿Olvidaste tu contraseña?")


def test_a_wrong_password_is_told_in_tu(spanish):
    make_user("tu@example.com")
    response = spanish.post("/accounts/login/", {"login": "tu@example.com", "password": "not-the-password"})
    assert_tu(visible_text(response), "La dirección de correo electrónico y/o la contraseña que indicaste no son correctas.")


def test_sign_up_page(spanish):
    text = visible_text(spanish.get("/accounts/signup/"))
    assert_tu(text, "Registrarse", "¿Ya tienes una cuenta? Entonces inicia sesión.")


def test_password_reset_pages(spanish):
    text = visible_text(spanish.get("/accounts/password/reset/"))
    assert_tu(
        text,
        "¿Olvidaste tu contraseña? Escribe tu dirección de correo electrónico y te enviaremos un correo para restablecerla.",
        "Si tienes algún problema para restablecer tu contraseña, contáctanos.",
    )
    make_user("tu@example.com")
    done = spanish.post("/accounts/password/reset/", {"email": "tu@example.com"}, follow=True)
    assert_tu(visible_text(done), "Te enviamos un correo electrónico. Si no lo recibiste, revisa tu carpeta de spam.")
    (email,) = mail.outbox
    assert_tu(
        " ".join(f"{email.subject} {email.body}".split()),
        "Recibes este correo porque tú u otra persona solicitó restablecer la contraseña de tu cuenta de usuario.",
        "Haz clic en el siguiente enlace para restablecer tu contraseña.",
    )
    bad_link = spanish.get("/accounts/password/reset/key/0-not-a-key/")
    assert_tu(visible_text(bad_link), "Solicita un nuevo restablecimiento de contraseña.")


def test_two_factor_pages(spanish_user):
    text = visible_text(spanish_user.get("/accounts/2fa/"))
    assert_tu(text, "Autenticación de dos factores", "Aplicación de autenticación")
    # Turning on the authenticator app asks for the password again first.
    reauthenticate = spanish_user.get("/accounts/2fa/totp/activate/", follow=True)
    assert reauthenticate.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")
    assert_tu(visible_text(reauthenticate), "Vuelve a autenticarte para proteger tu cuenta.", "Escribe tu contraseña:")
    confirmed = spanish_user.post(reauthenticate.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert confirmed.redirect_chain[-1][0] == "/accounts/2fa/totp/activate/"
    activate = visible_text(confirmed)
    assert_tu(
        activate,
        "Para proteger tu cuenta con autenticación de dos factores, escanea el siguiente código QR",
        "Puedes guardar este secreto y usarlo más adelante para reinstalar tu aplicación de autenticación.",
    )


def test_email_page(spanish_user):
    text = visible_text(spanish_user.get("/accounts/email/"))
    assert_tu(text, "Las siguientes direcciones de correo electrónico están asociadas a tu cuenta:")


def test_sign_out_page(spanish_user):
    assert_tu(visible_text(spanish_user.get("/accounts/logout/")), "¿Seguro que quieres cerrar sesión?")


def test_confirm_email_page(spanish):
    response = spanish.post(
        "/accounts/signup/",
        {"name": "Nora Nueva", "email": "nora@example.com", "password1": PASSWORD + "-77x", "password2": PASSWORD + "-77x"},
    )
    assert response.status_code == 302
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert_tu(visible_text(spanish.get(path)), "Confirma tu correo electrónico")
