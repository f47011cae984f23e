"""``{% chat_sidebar %}``: the conversation sidebar on the chat pages (in ``{% block aside %}``)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from chats.sidebar import sidebar_context

register = template.Library()


@register.inclusion_tag("chats/_sidebar.html", takes_context=True)
def chat_sidebar(context):
    """The sidebar for the page in ``context``: its conversation marked as open, and New chat
    starting another conversation with the page's agent when the person may still use it."""
    request = context["request"]
    agent = context.get("agent")
    new_chat_url = reverse("chats:new", args=[agent.slug]) if agent is not None and context.get("can_chat") else None
    data = sidebar_context(request, current=context.get("conversation") or "", new_chat_url=new_chat_url)
    data.update(request=request, csrf_token=context.get("csrf_token"))
    return data
