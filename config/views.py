"""Pages that belong to no single app: the start page and the error pages.

The start page gathers from several apps (config sits above them); the error pages are the app's
own, translated, whatever DEBUG says.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from agents import registry
from agents.selectors import agents_for_user
from chats.forms import MessageForm
from chats.selectors import conversations_for_user
from chats.views import conversation_new
from core.context_processors import THEME_COOKIE, THEMES

# The session key that remembers a dismissed "only the offline model" notice (no new column).
OFFLINE_NOTICE_DISMISSED = "offline_notice_dismissed"
THEME_COOKIE_MAX_AGE = 365 * 24 * 3600
PICKER_AGENTS = 100
STARTER_PROMPTS = (
    _("Help me plan my week"),
    _("Summarise what my documents say about a topic"),
    _("Explain a concept to me in simple words"),
    _("Draft a short, friendly email"),
)


def only_offline_model() -> bool:
    """True when no real language model is configured: every available model is the built-in one."""
    return all(model.provider == "offline" for model in registry.available_models())


@login_required
def home(request):
    """Chat-first start page: a composer with the agent picker and starter prompts, then the recent
    conversations. Posting it starts a conversation exactly as the chat page's own composer does
    (``chats:new`` for the picked agent); an unknown or unusable agent is a 404 there."""
    if request.method == "POST":
        return conversation_new(request, slug=request.POST.get("agent", "") or "-")
    agents = list(agents_for_user(request.user)[:PICKER_AGENTS])
    recent = list(conversations_for_user(user=request.user)[:5])
    slugs = {agent.slug for agent in agents}
    picked = request.GET.get("agent", "")
    if picked not in slugs:
        picked = next((c.agent.slug for c in recent if c.agent.slug in slugs), agents[0].slug if agents else "")
    return render(
        request,
        "home.html",
        {
            "recent_conversations": recent,
            "agents": agents,
            "picked_agent": picked,
            "form": MessageForm(),
            "starter_prompts": STARTER_PROMPTS,
            "offline_notice": only_offline_model() and not request.session.get(OFFLINE_NOTICE_DISMISSED),
        },
    )


def _next_url(request) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@login_required
@require_POST
def offline_notice_dismiss(request):
    """Hide the "only the offline model" notice for the rest of this sign-in."""
    request.session[OFFLINE_NOTICE_DISMISSED] = True
    return redirect("home")


@require_POST
def theme_set(request):
    """Remember light, dark or the system's theme in a cookie; the layout reads it on every page."""
    response = redirect(_next_url(request))
    theme = request.POST.get("theme", "")
    if theme in THEMES:
        response.set_cookie(THEME_COOKIE, theme, max_age=THEME_COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.is_secure(), httponly=False)
    return response


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def too_many_requests(request, exception=None):
    """allauth's rate limits answer with this (handler429). They fail closed while Redis is down:
    the page then says so rather than blaming the visitor."""
    from core.cache import redis_available

    return render(request, "errors/429.html", {"service_paused": not redis_available()}, status=429)


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


# A lost or refused database connection is temporary (a restart, a failover): 503 with
# Retry-After, so browsers, proxies and load balancers know; the next request opens a new
# connection (CONN_HEALTH_CHECKS drops the dead one) and nothing has to restart.
DATABASE_RETRY_AFTER_SECONDS = 5


def server_error(request):
    # No context processors that touch the database: the database may be what failed.
    import sys

    from django.db import InterfaceError, OperationalError
    from django.http import HttpResponse, HttpResponseServerError
    from django.template import loader

    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("errors/503.html").render(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("errors/500.html").render())
