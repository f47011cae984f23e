"""``{% storage_usage_card %}``: the storage card of the Usage page (used vs max, per context)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("storage/_usage_card.html", takes_context=True)
def storage_usage_card(context):
    from storage import selectors

    request = context.get("request")
    user = getattr(request, "user", None)
    quota = selectors.quota_for_user(user) if user is not None and user.is_authenticated else None
    return {"quota": selectors.quota_summary(quota)}
