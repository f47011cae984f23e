"""Shared set-up for benchmarks: Django configured, services up, a scratch database migrated.

Benchmarks never touch the development database: they migrate ``<name>_bench`` (recreated) and
point both aliases at it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ENV", "test")


def scratch_database(suffix: str = "bench"):
    """Start services, create and migrate a scratch database; returns (plan, name)."""
    from config import devserver

    devserver.up()
    import django

    django.setup()
    import logging

    # Eager tasks run while a bench builds its data: one INFO line each would bury the figures.
    logging.getLogger("celery").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from config import bootstrap

    name = f"{settings.DATABASES['owner']['NAME']}_{suffix}"
    plan = bootstrap.prepare(database=name, recreate=True)
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
        connections[alias].close()
    started = time.monotonic()
    call_command("migrate", database="owner", verbosity=0)
    print(f"scratch database {name} migrated in {time.monotonic() - started:.1f}s")
    return plan, name


def raw_connection(alias: str = "default"):
    """A plain psycopg connection with the alias's credentials (runtime role for 'default')."""
    from django.db import connections

    wrapper = connections[alias]
    return wrapper.get_new_connection(wrapper.get_connection_params())


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
