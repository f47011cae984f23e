"""manage.py restore DIR [--force] [--database NAME]: a backup made by `manage.py backup` into this
instance. Checks every checksum first; refuses a database that holds tables unless --force."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import backup


class Command(BaseCommand):
    help = "Restore a backup directory (database and files) into this instance."

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path)
        parser.add_argument("--force", action="store_true", help="replace a database that is not empty")
        parser.add_argument("--database", help="the database name to restore into (default: the app's)")

    def handle(self, *args, source, force=False, database=None, **options):
        try:
            manifest = backup.restore(source, database=database, force=force, progress=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(
            f"restored {source}: {sum(manifest['tables'].values())} rows, {len(manifest['files'])} files; counts match"
        ))
