"""Pages that belong to no single app: the start page and the error pages.

The start page gathers from several apps (config sits above them); the error pages are the app's
own, translated, whatever DEBUG says.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from agents.selectors import agents_for_user
from chats.selectors import conversations_for_user


@login_required
def home(request):
    """The start page: where to go next, what was going on, and this month's usage."""
    return render(
        request,
        "home.html",
        {
            "recent_conversations": list(conversations_for_user(user=request.user)[:5]),
            "agents": list(agents_for_user(request.user)[:4]),
        },
    )


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def server_error(request):
    # No context processors that touch the database: the database may be what failed.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render())
