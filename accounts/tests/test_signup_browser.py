"""Sign-up as a new person does it, in Chromium: form, e-mailed link, the Confirm button, signed in."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

pytestmark = pytest.mark.browser

LABELS = {
    "en": {"name": "Name", "email": "Email", "password": "Password", "again": "Password (again)",
           "signup": "Sign Up", "confirm": "Confirm", "check": "Check your email", "resend": "Resend the email"},
    "es": {"name": "Nombre", "email": "Correo electrónico", "password": "Contraseña", "again": "Contraseña (de nuevo)",
           "signup": "Registrarse", "confirm": "Confirmar", "check": "Revisa tu correo", "resend": "Reenviar el correo"},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_sign_up_and_press_confirm(_browser, live_server, language):
    labels = LABELS[language]
    context = _browser.new_context(base_url=live_server.url, locale="en-US" if language == "en" else "es-ES",
                                   viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/accounts/signup/")
        # Fields found by their visible labels ("Name:", ...), as a screen reader announces them.
        page.get_by_label(f"{labels['name']}:", exact=True).fill("Nora New")
        page.get_by_label(f"{labels['email']}:", exact=True).fill(f"nora-{language}@example.com")
        page.get_by_label(f"{labels['password']}:", exact=True).fill("a-long-Passphrase-77")
        page.get_by_label(f"{labels['again']}:", exact=True).fill("a-long-Passphrase-77")
        page.get_by_role("button", name=labels["signup"]).click()
        page.wait_for_url("**/accounts/confirm-email/")
        assert page.get_by_role("heading", name=labels["check"]).is_visible()
        assert f"nora-{language}@example.com" in page.content()
        assert page.get_by_role("button", name=labels["resend"]).is_visible()

        assert len(mail.outbox) == 1
        link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
        page.goto(link)
        page.get_by_role("button", name=labels["confirm"]).click()
        page.wait_for_url(f"{live_server.url}/")
        assert EmailAddress.objects.get(email=f"nora-{language}@example.com").verified
        # Signed in: the start page, not the login form.
        assert page.locator("form[action='/accounts/logout/']").count() == 1
    finally:
        context.close()
