"""{{ amount|money:currency }}: the amount with its currency's minor digits, grouped in the active
language, and the code after it (1,234.50 USD; 1.234,50 EUR; 1,235 JPY)."""

from decimal import Decimal

from django import template
from django.utils import formats, numberformat
from django.utils.translation import get_language

from finance.money import CURRENCIES, round_money

register = template.Library()


@register.filter
def money(value, currency="USD"):
    if value is None or value == "":
        return "—"
    digits = CURRENCIES.get(currency, 2)
    rounded = round_money(Decimal(value), currency) if currency in CURRENCIES else Decimal(value)
    return f"{formats.number_format(rounded, decimal_pos=digits, use_l10n=True, force_grouping=True)} {currency}"


def money_formatter():
    """``money`` for many rows at once: the active language's separators are read once, not per
    amount (the same text as the filter)."""
    lang = get_language()
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR", lang, use_l10n=True)
    grouping = formats.get_format("NUMBER_GROUPING", lang, use_l10n=True)
    thousand_sep = formats.get_format("THOUSAND_SEPARATOR", lang, use_l10n=True)

    def fmt(value, currency="USD"):
        if value is None or value == "":
            return "—"
        digits = CURRENCIES.get(currency, 2)
        rounded = round_money(Decimal(value), currency) if currency in CURRENCIES else Decimal(value)
        text = numberformat.format(rounded, decimal_sep, digits, grouping, thousand_sep, force_grouping=True, use_l10n=True)
        return f"{text} {currency}"

    return fmt


@register.filter
def plain(value, currency="USD"):
    """Digits for a chart or an input (no grouping, '.' decimals)."""
    if value is None:
        return ""
    return f"{Decimal(value):.{CURRENCIES.get(currency, 2)}f}"
