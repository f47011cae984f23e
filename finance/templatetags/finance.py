"""{{ amount|money:currency }}: the amount with its currency's minor digits, grouped in the active
language, and the code after it (1,234.50 USD; 1.234,50 EUR; 1,235 JPY)."""

from decimal import Decimal

from django import template
from django.utils import formats

from finance.money import CURRENCIES, round_money

register = template.Library()


@register.filter
def money(value, currency="USD"):
    if value is None or value == "":
        return "—"
    digits = CURRENCIES.get(currency, 2)
    rounded = round_money(Decimal(value), currency) if currency in CURRENCIES else Decimal(value)
    return f"{formats.number_format(rounded, decimal_pos=digits, use_l10n=True, force_grouping=True)} {currency}"


@register.filter
def plain(value, currency="USD"):
    """Digits for a chart or an input (no grouping, '.' decimals)."""
    if value is None:
        return ""
    return f"{Decimal(value):.{CURRENCIES.get(currency, 2)}f}"
