"""Refusals of the chat domain whose message may be shown to the person."""

from __future__ import annotations

from core.errors import UserFacingError


class ChatError(UserFacingError):
    """A turn, rename or regeneration that cannot be done; ``message`` says why."""
