"""Helpers for tests: personas (owner, another user, staff) and small assertions."""

from __future__ import annotations

import itertools

from django.test import Client

PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


def make_user(email: str | None = None, *, password: str = PASSWORD, role: str = "USER", tier: str = "FREE",
              verified: bool = True, name: str = ""):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    email = email or f"user{next(_counter)}@example.com"
    user = User.objects.create_user(email, password, role=role, subscription_tier=tier, name=name)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context and "messages" in response.context else []
