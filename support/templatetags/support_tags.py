from django import template

from support.metrics import duration_text

register = template.Library()


@register.filter
def support_duration(value) -> str:
    return duration_text(value)
