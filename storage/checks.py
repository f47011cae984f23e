"""System check: in production, say plainly when uploads are not scanned for viruses."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def virus_scanning_check(app_configs=None, **kwargs):
    from .scanning import scanning_enabled

    if not getattr(settings, "PRODUCTION", False) or scanning_enabled():
        return []
    return [Warning(
        "Uploaded files are not scanned for viruses: neither CLAMD_SOCKET nor CLAMD_HOST is set, so every "
        "file is stored unscanned.",
        hint="Run clamd and set CLAMD_SOCKET (a unix socket) or CLAMD_HOST/CLAMD_PORT; see .env.example.",
        id="storage.W001",
    )]
