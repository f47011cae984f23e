"""``manage.py purge_trash``: delete for good the files kept in the trash past the retention period
(``STORAGE_TRASH_RETENTION_DAYS``); beat runs the same every day (``storage.purge_trash``)."""

from django.core.management.base import BaseCommand

from storage.trash import retention_days, trash_purge_expired


class Command(BaseCommand):
    help = "Delete for good the files in the trash for longer than STORAGE_TRASH_RETENTION_DAYS."

    def handle(self, *args, **options):
        count = trash_purge_expired()
        self.stdout.write(f"purged {count} file(s) kept in the trash for more than {retention_days()} days")
