"""manage.py backup [--output DIR]: the database (pg_dump, custom format) and every stored file,
with a manifest of sizes, checksums and row counts. See config/backup.py and docs/operations.md."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import backup


class Command(BaseCommand):
    help = "Back up the database and the file storage into a new directory, with a manifest and checksums."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="a new or empty directory (default: BACKUP_DIR/<UTC time>)")

    def handle(self, *args, output=None, **options):
        output = output or backup.default_output()
        try:
            manifest = backup.backup(output, progress=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(exc.message) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(self.style.SUCCESS(
            f"backup written to {output}: {len(manifest['tables'])} tables, {rows} rows, {len(manifest['files'])} files"
        ))
