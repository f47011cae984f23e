"""Refusals of the support domain, each with a message safe to show to whoever caused it."""

from __future__ import annotations

from core.errors import UserFacingError


class SupportError(UserFacingError):
    """A ticket, message or staff action was refused; nothing was saved."""


class AttachmentRefused(SupportError):
    """An attachment is too large, of a type not accepted, or one too many."""
