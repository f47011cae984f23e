"""manage.py prepare_run: what `make run` does before serving, in one Django start-up.

The database roles and database (config/bootstrap.py); the migrations, only when the plan has
some (a no-op ``migrate`` costs its post-migrate signals); the system checks (``check`` at fail
level ERROR, as ``migrate`` ran them, and the database checks on the runtime connection, which
only report, e.g. what RAG is missing); the demo data (``seed_demo``, which writes nothing when it
is already there).

Run by ``python -m config.devserver run`` with a start gate (``CJH_START_GATE``, see there): it
waits for the step ``services`` before touching the database, marks ``migrated`` once the schema is
current (the web process, which has imported and warmed its code meanwhile, waits for it when it
found migrations to apply), and runs the checks and the seeding once the web listens.
"""

from __future__ import annotations

import time

from django.core.checks import CRITICAL, Tags
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from config import devserver


class Command(BaseCommand):
    help = "Bootstrap the database, migrate when needed, run the checks and seed the demo data (what `make run` does first)."
    requires_system_checks = []  # run below, after the migrations, as migrate and check would

    def add_arguments(self, parser):
        parser.add_argument("--no-seed", action="store_true", help="Skip seed_demo.")

    def handle(self, *args, no_seed=False, **options):
        from config import bootstrap

        devserver.gate_wait("services")
        started = time.monotonic()
        try:  # the database the settings name (DATABASE_NAME included), not only the default one
            bootstrap.prepare(database=connections["owner"].settings_dict["NAME"])
        except bootstrap.BootstrapError as exc:
            raise CommandError(str(exc)) from exc
        executor = MigrationExecutor(connections["owner"])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            call_command("migrate", database="owner", interactive=False, verbosity=0, skip_checks=False)  # checks first
        connections["owner"].close()
        applied = f"{len(plan)} migration{'s' if len(plan) != 1 else ''} applied" if plan else "nothing to apply"
        devserver.log(f"database migrated in {time.monotonic() - started:.1f}s ({applied})")
        devserver.gate_open("migrated")
        devserver.gate_wait("web", timeout=devserver.WEB_FIRST_WAIT)  # the first page first (2 cores)
        if not plan:
            self.check(databases=["owner"])  # what migrate would have run: an error stops `make run`
        # As `manage.py check --database default --fail-level CRITICAL`: says what is missing.
        self.check(tags=[Tags.database], databases=["default"], display_num_errors=True, fail_level=CRITICAL)
        if not no_seed:
            call_command("seed_demo")
