"""Refusals people see when keeping, editing or sharing an artifact."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import UserFacingError


class ArtifactRefused(UserFacingError):
    """The content cannot be kept as it is (invalid JSON, too large, not an image, ...)."""

    default_message = _("This artifact could not be saved.")


class ArtifactConflict(UserFacingError):
    """Someone (or the agent) saved a newer version meanwhile."""

    default_message = _("A newer version was saved meanwhile. Open the newest version and try again.")
