"""Errors the health pages show (see core.errors)."""

from core.errors import UserFacingError


class HealthInputError(UserFacingError):
    """A value the person typed that cannot be saved: the message says what to fix."""


class DoseError(UserFacingError):
    """A dose that cannot be confirmed, skipped or backfilled as asked."""
