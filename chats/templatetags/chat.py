from django import template
from django.utils.html import escape, linebreaks

from chats.rendering import as_safe

register = template.Library()


@register.filter
def message_html(message) -> str:
    """The message's HTML as rendered (and sanitised) when it was stored; escaped text otherwise."""
    rendered = (message.metadata or {}).get("html")
    if rendered is None:
        return linebreaks(escape(message.content))
    return as_safe(rendered)
