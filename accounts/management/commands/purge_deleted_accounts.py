from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import users_purge_deleted


class Command(BaseCommand):
    help = "Erase, with all their data, the accounts soft-deleted longer ago than the grace period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Grace period in days (default ACCOUNT_DELETION_GRACE_DAYS={settings.ACCOUNT_DELETION_GRACE_DAYS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be purged; change nothing.")

    def handle(self, *args, days=None, dry_run=False, **options):
        ids = users_purge_deleted(grace_days=days, dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(f"{verb} {len(ids)} account(s)")
        for user_id in ids:
            self.stdout.write(f"  {user_id}")
