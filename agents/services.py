"""Writes of the agents domain. Each service is one transaction.

Grants and revocations are audited by a database trigger on ``user_agent_permissions`` (the actor is
``granted_by`` for a grant, the transaction's ``app.user_id`` for a revocation); visibility and
activation changes are audited here.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import is_admin
from accounts.services import audit_log_record
from core.tenancy import tenant

from . import validation
from .models import Agent, UserAgentPermission
from .selectors import agent_can_edit, agents_viewable_by

# How many times a generated slug is retried when a concurrent insert takes it first.
_SLUG_ATTEMPTS = 5


def _require_editor(user: User, agent: Agent) -> None:
    if not agent_can_edit(user=user, agent=agent):
        raise PermissionDenied("Only the agent's creator or an admin may change it.")


def _require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise PermissionDenied("Only admins manage who may use an agent.")


# Slugs are unique across all agents (the ERD's UK), and an agent's address is its slug, so a
# slug someone chooses may already belong to a private agent they cannot see. Saying so ("another
# agent already uses this slug") would tell them that agent exists. So a slug is compared only with
# the agents the person can see; one held by an agent they cannot see is made unique silently
# with a random suffix (never a count: "-3" would say how many hidden agents share the name).
_SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_SUFFIX_LENGTH = 6


def _with_random_suffix(slug: str) -> str:
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))
    return f"{slug[: validation.SLUG_MAX_LENGTH - _SUFFIX_LENGTH - 1].strip('-')}-{suffix}"


def _next_free_slug(base: str, *, user: User, exclude_pk=None) -> str:
    """``base``, or ``base-2``, ``base-3``, ... : the first one no agent ``user`` can see uses."""
    taken = set(
        agents_viewable_by(user).filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    ) | validation.RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _slug_is_taken(slug: str, *, exclude_pk, visible_to: User | None = None) -> bool:
    """Whether another agent uses ``slug``; with ``visible_to``, another agent that person can see."""
    agents = agents_viewable_by(visible_to) if visible_to is not None else Agent.objects.all()
    return agents.filter(slug=slug).exclude(pk=exclude_pk).exists()


def _save_with_slug(agent: Agent, *, user: User, slug: str | None, generate_from: str | None) -> None:
    """Save ``agent`` with the chosen ``slug``, or one generated from ``generate_from``.

    A chosen slug that an agent visible to ``user`` uses (checked first, and again when the unique
    index refuses it in a race) is a ``slug`` field error. Otherwise the slug is used as is when
    free, and with a random suffix when an agent ``user`` cannot see holds it.
    """
    if slug:
        try:
            validation.check_slug(slug)
        except ValidationError as exc:
            raise ValidationError({"slug": exc.error_list}) from None
        if _slug_is_taken(slug, exclude_pk=agent.pk, visible_to=user):
            raise validation.duplicate_slug_error()
    else:
        slug = _next_free_slug(validation.slug_base(generate_from or ""), user=user, exclude_pk=agent.pk)
    candidate = slug
    for attempt in range(_SLUG_ATTEMPTS):
        if candidate == slug and attempt > 0 or _slug_is_taken(candidate, exclude_pk=agent.pk):
            candidate = _with_random_suffix(slug)
        agent.slug = candidate
        try:
            with transaction.atomic():
                agent.save()
            return
        except IntegrityError:
            if _slug_is_taken(slug, exclude_pk=agent.pk, visible_to=user):
                raise validation.duplicate_slug_error() from None
            if attempt == _SLUG_ATTEMPTS - 1 or not _slug_is_taken(candidate, exclude_pk=agent.pk):
                raise


def _config(base: dict, *, temperature, max_tokens: int, knowledge: validation.Knowledge | None = None) -> dict:
    # JSON has no decimals: a float, rounded to the form's two places.
    config = {**(base or {}), "temperature": float(round(Decimal(str(temperature)), 2)), "max_tokens": int(max_tokens)}
    if knowledge is not None:  # None keeps the scope as it is (an admin editing someone's agent)
        config.pop(validation.KNOWLEDGE_KEY, None)
        if knowledge.scoped:
            config[validation.KNOWLEDGE_KEY] = knowledge.as_config()
    return config


@transaction.atomic
def agent_create(
    *,
    user: User,
    name: str,
    description: str,
    category: str,
    model: str,
    system_prompt: str,
    temperature: Decimal | float,
    max_tokens: int,
    slug: str | None = None,
    knowledge: validation.Knowledge | None = None,
) -> Agent:
    """Create a private agent owned by ``user``; ``ValidationError`` (by field) on bad settings.
    ``knowledge``: the collections and documents of ``user``'s it answers from (none: all)."""
    validation.check_settings(
        name=name, category=category, model=model, system_prompt=system_prompt, temperature=temperature, max_tokens=max_tokens
    )
    if knowledge is not None:
        knowledge = validation.check_knowledge(owner_id=user.id, knowledge=knowledge)
    agent = Agent(
        created_by=user,
        name=name.strip(),
        description=(description or "").strip(),
        category=category,
        model=model,
        system_prompt=system_prompt or "",
        config=_config({}, temperature=temperature, max_tokens=max_tokens, knowledge=knowledge),
    )
    _save_with_slug(agent, user=user, slug=slug, generate_from=name)
    return agent


@transaction.atomic
def agent_update(
    *,
    user: User,
    agent: Agent,
    name: str,
    description: str,
    category: str,
    model: str,
    system_prompt: str,
    temperature: Decimal | float,
    max_tokens: int,
    slug: str | None = None,
    knowledge: validation.Knowledge | None = None,
) -> Agent:
    """Change an agent's settings (creator or admin). An empty ``slug`` keeps the current one.
    ``knowledge`` (None keeps it) names the creator's documents, so only the creator sets it."""
    _require_editor(user, agent)
    validation.check_settings(
        name=name, category=category, model=model, system_prompt=system_prompt, temperature=temperature, max_tokens=max_tokens
    )
    if knowledge is not None:
        if agent.created_by_id != user.id:
            raise PermissionDenied("Only the agent's creator chooses its knowledge.")
        knowledge = validation.check_knowledge(owner_id=user.id, knowledge=knowledge)
    agent.name = name.strip()
    agent.description = (description or "").strip()
    agent.category = category
    agent.model = model
    agent.system_prompt = system_prompt or ""
    agent.config = _config(agent.config, temperature=temperature, max_tokens=max_tokens, knowledge=knowledge)
    _save_with_slug(agent, user=user, slug=slug or agent.slug, generate_from=None)
    return agent


def _set_active(*, user: User, agent: Agent, active: bool) -> Agent:
    _require_editor(user, agent)
    if agent.is_active != active:
        agent.is_active = active
        agent.save(update_fields=["is_active"])
        audit_log_record(
            actor=user, action="agent.activate" if active else "agent.deactivate", target_type="agent", target_id=agent.id
        )
    return agent


@transaction.atomic
def agent_deactivate(*, user: User, agent: Agent) -> Agent:
    """Hide the agent from the catalog and from new chats; its conversations and data stay."""
    return _set_active(user=user, agent=agent, active=False)


@transaction.atomic
def agent_activate(*, user: User, agent: Agent) -> Agent:
    return _set_active(user=user, agent=agent, active=True)


@transaction.atomic
def agent_set_public(*, actor: User, agent: Agent, public: bool) -> Agent:
    """Make the agent public (everyone may use it) or private (its creator and grantees); admins only."""
    _require_admin(actor)
    if agent.is_public != public:
        agent.is_public = public
        agent.save(update_fields=["is_public"])
        audit_log_record(
            actor=actor,
            action="agent.make_public" if public else "agent.make_private",
            target_type="agent",
            target_id=agent.id,
        )
    return agent


@transaction.atomic
def agent_grant(*, actor: User, agent: Agent, email: str) -> UserAgentPermission:
    """Let the account with ``email`` use ``agent``; admins only. An existing grant is returned as is.

    Granting a public agent is allowed: the grant keeps access if the agent later turns private.
    """
    _require_admin(actor)
    email = User.objects.normalize_email(email)
    grantee = User.objects.filter(email=email).first()
    if grantee is None:
        raise ValidationError({"email": [ValidationError(_("No account uses this email address."), code="unknown_email")]})
    if grantee.deleted_at is not None:
        raise ValidationError({"email": [ValidationError(_("This account was deleted."), code="deleted_account")]})
    permission, _created = UserAgentPermission.objects.get_or_create(
        agent=agent, user=grantee, defaults={"granted_by": actor}
    )
    return permission


@transaction.atomic
def agent_revoke(*, actor: User, agent: Agent, user: User) -> bool:
    """Take ``agent`` away from ``user``; admins only. True when a grant was removed.

    Runs in the actor's context so the audit trigger names them even outside a request.
    """
    _require_admin(actor)
    with tenant(actor.id):
        deleted, _rows = UserAgentPermission.objects.filter(agent=agent, user=user).delete()
    return deleted > 0
