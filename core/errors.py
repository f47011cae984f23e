"""The one error type whose message may be shown to the person who caused it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class UserFacingError(Exception):
    """A refusal or failure with a message that is safe to show as it is (translatable text, no
    internals). Domain errors derive from it (``<app>/errors.py``); views and tasks catch this one
    type and show or store ``message``.
    """

    default_message = _("Something went wrong. Please try again.")

    def __init__(self, message=None, *args):
        self.message = message if message is not None else self.default_message
        super().__init__(self.message, *args)

    def __str__(self) -> str:
        return str(self.message)
