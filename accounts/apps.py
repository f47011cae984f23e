from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from allauth.socialaccount import signals

        from . import receivers

        signals.social_account_added.connect(receivers.on_social_account_linked)
        signals.social_account_updated.connect(receivers.on_social_account_linked)
        signals.social_account_removed.connect(receivers.on_social_account_removed)
