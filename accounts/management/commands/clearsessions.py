from django.core.management.base import BaseCommand

from accounts.tasks import clear_expired_sessions_and_tokens


class Command(BaseCommand):
    help = "Delete expired sessions (auth_sessions) and expired verification tokens."

    def handle(self, *args, **options):
        sessions, tokens = clear_expired_sessions_and_tokens()
        self.stdout.write(f"deleted {sessions} expired session(s) and {tokens} expired verification token(s)")
