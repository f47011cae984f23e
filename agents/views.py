"""Pages of the agents catalog and agent management. Thin: form → one service → redirect/render."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import admin_required
from accounts.permissions import is_admin
from core.params import query_page, query_text

from . import registry, selectors, services
from .forms import AgentForm, GrantForm, VisibilityForm
from .models import Agent, Category

CATALOG_PAGE_SIZE = 24
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class AgentCard:
    """What a catalog card or the detail page shows about an agent beyond its own fields."""

    agent: Agent
    model_label: str
    model_available: bool
    mine: bool  # the viewer created it
    shared: bool  # the viewer reaches it through a grant only (not public, not theirs)

    @classmethod
    def of(cls, agent: Agent, user) -> AgentCard:
        info = registry.get_model(agent.model)
        mine = agent.created_by_id == user.pk
        return cls(
            agent=agent,
            model_label=info.label if info else agent.model,
            model_available=registry.is_available(agent.model),
            mine=mine,
            shared=not mine and not agent.is_public and bool(getattr(agent, "is_granted", False)),
        )


def _status(form) -> int:
    return 400 if form.errors else 200


@login_required
def agent_catalog(request):
    # Every query parameter through the shared cleaners: a NUL byte never reaches PostgreSQL.
    category = query_text(request, "category", max_length=40) or None
    if category and category not in Category.values:
        messages.warning(request, _("There is no such category; showing every category."))
        category = None
    search = query_text(request, "q", max_length=SEARCH_MAX_LENGTH)
    agents = selectors.agents_for_user(request.user, category=category, search=search or None)
    page = Paginator(agents, CATALOG_PAGE_SIZE).get_page(query_page(request))
    return render(
        request,
        "agents/catalog.html",
        {
            "page": page,
            "cards": [AgentCard.of(agent, request.user) for agent in page],
            "categories": Category.choices,
            "category": category,
            "search": search,
            "deactivated": selectors.agents_deactivated_for_creator(request.user),
        },
    )


@login_required
def agent_detail(request, slug):
    agent = selectors.agent_get_viewable(user=request.user, slug=slug)
    card = AgentCard.of(agent, request.user)
    can_edit = selectors.agent_can_edit(user=request.user, agent=agent)
    return render(
        request,
        "agents/detail.html",
        {
            "agent": agent,
            "card": card,
            "can_edit": can_edit,
            "can_manage_access": is_admin(request.user),
            "can_chat": selectors.agent_is_usable_by(agent, request.user) and card.model_available,
        },
    )


@login_required
def agent_new(request):
    form = AgentForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_create(user=request.user, **form.service_kwargs())
        except ValidationError as exc:  # e.g. another request took the slug between check and insert
            form.add_error(None, exc)
        else:
            messages.success(request, _("The agent “%(name)s” was created.") % {"name": agent.name})
            return redirect("agents:detail", slug=agent.slug)
    return render(request, "agents/form.html", {"form": form, "agent": None}, status=_status(form))


@login_required
def agent_edit(request, slug):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    form = AgentForm(request.POST if request.method == "POST" else None, agent=agent, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_update(user=request.user, agent=agent, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("agents:detail", slug=agent.slug)
        agent.refresh_from_db()  # the page shows the saved agent, not the refused values
    return render(request, "agents/form.html", {"form": form, "agent": agent}, status=_status(form))


@login_required
@require_POST
def agent_deactivate(request, slug):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    services.agent_deactivate(user=request.user, agent=agent)
    messages.success(request, _("The agent was deactivated: it no longer appears in the catalog."))
    return redirect("agents:detail", slug=agent.slug)


@login_required
@require_POST
def agent_activate(request, slug):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    services.agent_activate(user=request.user, agent=agent)
    messages.success(request, _("The agent was activated."))
    return redirect("agents:detail", slug=agent.slug)


@login_required
@admin_required
def agent_access(request, slug):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    form = GrantForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            permission = services.agent_grant(actor=request.user, agent=agent, email=form.cleaned_data["email"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(email)s can use this agent.") % {"email": permission.user.email})
            return redirect("agents:access", slug=agent.slug)
    return render(
        request,
        "agents/access.html",
        {"agent": agent, "form": form, "grants": selectors.grants_for_agent(agent)},
        status=_status(form),
    )


@login_required
@require_POST
@admin_required
def agent_visibility(request, slug):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose public or private."))
        return redirect("agents:access", slug=agent.slug)
    services.agent_set_public(actor=request.user, agent=agent, public=form.cleaned_data["public"])
    if agent.is_public:
        messages.success(request, _("The agent is public: everyone can use it."))
    else:
        messages.success(request, _("The agent is private: only its creator and the people granted can use it."))
    return redirect("agents:access", slug=agent.slug)


@login_required
@require_POST
@admin_required
def agent_access_revoke(request, slug, user_id):
    agent = selectors.agent_get_editable(user=request.user, slug=slug)
    grant = selectors.grant_get(agent=agent, user_id=user_id)
    services.agent_revoke(actor=request.user, agent=agent, user=grant.user)
    messages.success(request, _("%(email)s can no longer use this agent.") % {"email": grant.user.email})
    return redirect("agents:access", slug=agent.slug)
