"""Errors of the accounts domain; their messages are shown to the person who caused them."""

from core.errors import UserFacingError


class InvitationError(UserFacingError):
    """An invitation that cannot be used; the message is shown to the person holding the link."""
