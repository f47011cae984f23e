"""Compare the migrated database with the ERD, using the shared checker (docs/erd/tools)."""

import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def owner_dsn(database: str | None = None) -> str:
    owner = settings.DATABASES["owner"]
    parts = {
        "host": owner.get("HOST") or "localhost",
        "port": owner.get("PORT") or "5432",
        "dbname": database or owner["NAME"],
        "user": owner.get("USER") or "",
        "password": owner.get("PASSWORD") or "",
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


class Command(BaseCommand):
    help = "Check the migrated database against the ERD (tables, columns, keys, rules, RLS, triggers, indexes)."

    def handle(self, *args, **options):
        script = settings.BASE_DIR / "docs" / "erd" / "tools" / "check_schema.py"
        result = subprocess.run([sys.executable, str(script), "--dsn", owner_dsn()], capture_output=True, text=True)
        self.stdout.write(result.stdout.rstrip())
        if result.returncode:
            raise CommandError(result.stderr.strip() or "the schema differs from the ERD")
