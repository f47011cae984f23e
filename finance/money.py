"""Money: Decimal only, rounded half-up to the currency's ISO 4217 minor unit, parsed strictly.

The currencies people can pick (and the exponent of each) are the table below; a code outside it is
refused rather than guessed.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .errors import MoneyError

# ISO 4217 minor-unit exponents of the currencies the forms offer.
CURRENCIES: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
    "PLN": 2, "CZK": 2, "MXN": 2, "BRL": 2, "ARS": 2, "COP": 2, "PEN": 2, "UYU": 2, "CNY": 2, "INR": 2,
    "ZAR": 2, "SGD": 2, "HKD": 2, "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3,
}
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]
# Larger amounts are refused: the columns hold 13 integer digits.
MAX_AMOUNT = Decimal("1000000000000")
RATE_PRECISION = Decimal("0.0000000001")


def exponent(currency: str) -> int:
    try:
        return CURRENCIES[currency]
    except KeyError:
        raise MoneyError(_("%(code)s is not a currency we know.") % {"code": currency}) from None


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit (2.345 EUR → 2.35, 0.5 JPY → 1)."""
    return Decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def format_plain(value: Decimal, currency: str) -> str:
    """The amount with exactly the currency's minor digits and '.' as the separator (CSV files)."""
    return f"{round_money(value, currency):.{exponent(currency)}f}"


def format_input(value: Decimal, currency: str, language: str | None = None) -> str:
    """The amount as a person of this language types it back into a form (12,50 in Spanish), ungrouped."""
    text = format_plain(value, currency)
    decimal_sep, _group = _separators(language or get_language())
    return text.replace(".", decimal_sep)


def _separators(language: str | None) -> tuple[str, str]:
    """(decimal, grouping) separators people type in this language."""
    lang = (language or "en").split("-")[0]
    if lang in {"es", "de", "fr", "it", "pt", "nl"}:
        return ",", "."
    return ".", ","


def parse_amount(text: str, *, currency: str | None = None, language: str | None = None,
                 allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """A typed amount in the person's language ("1,234.50" in English, "1.234,50" in Spanish).

    Refused, each with its own message: anything but digits and separators (1e309, NaN, "12 €"),
    the other language's decimal separator (12,50 in English), more decimals than the currency has,
    zero or negative unless allowed, and amounts beyond the columns.
    """
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw:
        raise MoneyError(_("Enter an amount."))
    decimal_sep, group_sep = _separators(language or get_language())
    negative = raw.startswith("-")
    if negative or raw.startswith("+"):
        raw = raw[1:]
    grouped = rf"\d{{1,3}}(?:{re.escape(group_sep)}\d{{3}})+"
    pattern = rf"^(?:{grouped}|\d+)(?:{re.escape(decimal_sep)}\d+)?$|^{re.escape(decimal_sep)}\d+$"
    if not re.match(pattern, raw):
        if re.fullmatch(r"\d+" + re.escape(group_sep) + r"\d{1,2}", raw):
            if decimal_sep == ".":
                raise MoneyError(_("Use a point for decimals, as in 12.50."))
            raise MoneyError(_("Use a comma for decimals, as in 12,50."))
        raise MoneyError(_("Enter the amount as digits, as in %(example)s.") % {"example": "1234" + decimal_sep + "50"})
    normal = raw.replace(group_sep, "").replace(decimal_sep, ".")
    try:
        value = Decimal(normal)
    except InvalidOperation:
        raise MoneyError(_("Enter the amount as digits.")) from None
    if negative:
        value = -value
    return check_amount(value, currency=currency, allow_zero=allow_zero, allow_negative=allow_negative)


def check_amount(value: Decimal, *, currency: str | None = None, allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """The same limits for amounts that come from files or code rather than typing."""
    if not value.is_finite():
        raise MoneyError(_("Enter a real amount."))
    if abs(value) >= MAX_AMOUNT:
        raise MoneyError(_("That amount is too large."))
    if value < 0 and not allow_negative:
        raise MoneyError(_("The amount must be greater than zero."))
    if value == 0 and not allow_zero:
        raise MoneyError(_("The amount must be greater than zero."))
    if currency is not None:
        digits = exponent(currency)
        if value != value.quantize(quantum(currency), rounding=ROUND_HALF_UP):
            if digits == 0:
                raise MoneyError(_("%(code)s amounts have no decimals.") % {"code": currency})
            raise MoneyError(
                _("%(code)s amounts have at most %(digits)s decimals.") % {"code": currency, "digits": digits}
            )
        value = value.quantize(quantum(currency))
    return value


def parse_rate(text: str, *, language: str | None = None) -> Decimal:
    value = parse_amount(text, language=language)
    if value != value.quantize(RATE_PRECISION):
        raise MoneyError(_("A rate has at most 10 decimals."))
    return value
