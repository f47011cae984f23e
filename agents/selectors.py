"""Reads of the agents domain, always scoped to the person asking.

Who may do what with an agent:

- *use* it (catalog, chat): it is active, and it is public, granted to them, or theirs;
- *edit* it (settings, deactivate/activate): they created it, or they are an admin
  (:func:`agent_can_edit`, the one statement of that rule);
- *view* its page: either of the above, so a creator still reaches an agent they deactivated;
- *manage its access* (public/private, grants): admins only (``accounts.permissions.is_admin``).

Everything else is a 404, never a 403: an outsider must not learn that a private agent exists.
"""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.permissions import is_admin
from core.search import Folded

from .models import Agent, Category, UserAgentPermission
from .seeded_texts import translated_matches


def _granted_to(user: User) -> Exists:
    return Exists(UserAgentPermission.objects.filter(agent=OuterRef("pk"), user=user))


def _usable_filter(user: User) -> Q:
    """Needs the ``is_granted`` annotation of :func:`_with_access`."""
    return Q(is_active=True) & (Q(is_public=True) | Q(is_granted=True) | Q(created_by=user))


def _with_access(queryset: QuerySet[Agent], user: User) -> QuerySet[Agent]:
    """Annotate ``is_granted``: whether ``user`` holds a grant for the agent."""
    return queryset.annotate(is_granted=_granted_to(user))


def agents_for_user(user: User, *, category: str | None = None, search: str | None = None) -> QuerySet[Agent]:
    """The agents ``user`` may use, public ones first, then by name.

    Each agent carries ``is_granted`` so a card can say how the user reaches it.
    An unknown ``category`` filters nothing out; the caller tells the user it was ignored.
    """
    queryset = _with_access(Agent.objects.select_related("created_by"), user).filter(_usable_filter(user))
    if category and category in Category.values:
        queryset = queryset.filter(category=category)
    search = (search or "").strip()
    if search:
        # Accents ignored ("codigo" finds "Código"): both sides folded by chats migration 0004's function.
        folded = Folded(Value(search))
        matches = Q(name_folded__icontains=folded) | Q(description_folded__icontains=folded)
        # A demo agent is also found by the words its reader sees (its translated text, while it
        # is still as seeded): "asistente" finds "General assistant" for a Spanish reader.
        for slug, field, stored in translated_matches(search):
            matches |= Q(slug=slug, **{field: stored})
        queryset = queryset.alias(name_folded=Folded("name"), description_folded=Folded("description")).filter(matches)
    return queryset.order_by("-is_public", "name", "slug")


def agents_deactivated_for_creator(user: User, *, limit: int = 50) -> QuerySet[Agent]:
    """The agents ``user`` created and deactivated, so they can find them again and reactivate them."""
    return Agent.objects.filter(created_by=user, is_active=False).only("id", "name", "slug").order_by("name")[:limit]


def agent_get_usable(*, user: User, slug: str) -> Agent:
    """An agent ``user`` may chat with; 404 for an inactive agent or a private one they cannot reach."""
    queryset = _with_access(Agent.objects.select_related("created_by"), user).filter(_usable_filter(user))
    return get_object_or_404(queryset, slug=slug)


def agent_get_editable(*, user: User, slug: str) -> Agent:
    """An agent ``user`` may edit (:func:`agent_can_edit`; the agent active or not); 404 otherwise."""
    agent = get_object_or_404(_with_access(Agent.objects.select_related("created_by"), user), slug=slug)
    if not agent_can_edit(user=user, agent=agent):
        raise Http404
    return agent


def agents_viewable_by(user: User) -> QuerySet[Agent]:
    """The agents whose page ``user`` may see: those they may use or may edit (every one, for an admin)."""
    queryset = _with_access(Agent.objects.all(), user)
    if not is_admin(user):
        queryset = queryset.filter(_usable_filter(user) | Q(created_by=user))
    return queryset


def agent_get_viewable(*, user: User, slug: str) -> Agent:
    """An agent whose page ``user`` may see: one they may use or one they may edit; 404 otherwise."""
    return get_object_or_404(agents_viewable_by(user).select_related("created_by"), slug=slug)


def agent_is_usable_by(agent: Agent, user: User) -> bool:
    """The rule of :func:`agent_get_usable`, for an agent already loaded (no query when it was loaded
    by one of these selectors, which annotate ``is_granted``)."""
    if not agent.is_active:
        return False
    if agent.is_public or agent.created_by_id == user.pk:
        return True
    if hasattr(agent, "is_granted"):
        return bool(agent.is_granted)
    return UserAgentPermission.objects.filter(agent=agent, user=user).exists()


def agent_can_edit(*, user: User, agent: Agent) -> bool:
    """Whether ``user`` may change ``agent``'s settings and (de)activate it: an admin, or its creator
    while their account is active (a deleted account cannot sign in, so pages never see one)."""
    return is_admin(user) or bool(user.is_authenticated and user.is_active and agent.created_by_id == user.pk)


def grants_for_agent(agent: Agent) -> QuerySet[UserAgentPermission]:
    """Who was granted ``agent``, by whom and when (for the admins' access page)."""
    return (
        UserAgentPermission.objects.filter(agent=agent)
        .select_related("user", "granted_by")
        .order_by("user__email")
    )


def grant_get(*, agent: Agent, user_id: uuid.UUID | str) -> UserAgentPermission:
    """The grant of ``agent`` to the user ``user_id``; 404 when there is none."""
    return get_object_or_404(UserAgentPermission.objects.select_related("user"), agent=agent, user_id=user_id)
