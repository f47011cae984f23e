"""allauth's social-account signals, turned into calls to our services."""

from . import services
from .adapters import mirror_social_tokens


def on_social_account_linked(sender, request, sociallogin, **kwargs):
    mirror_social_tokens(sociallogin)


def on_social_account_removed(sender, request, socialaccount, **kwargs):
    services.account_link_remove(
        user=socialaccount.user, provider=socialaccount.provider, provider_account_id=str(socialaccount.uid)
    )
