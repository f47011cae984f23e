"""Demo data for development: a demo user and a staff user, printed with their credentials.

Idempotent: running it again resets the two passwords to the printed ones and changes nothing else.
When both users are already as seeded (one query finds them, their roles, tiers and verified primary
addresses; their passwords are the printed one), it writes nothing to them: the second `make run`.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef

from accounts.models import Role, SubscriptionTier, User

DEMO_USERS = [
    {"email": "demo@example.com", "name": "Demo User", "role": Role.USER, "tier": SubscriptionTier.PRO},
    {"email": "staff@example.com", "name": "Staff Admin", "role": Role.ADMIN, "tier": SubscriptionTier.ENTERPRISE},
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo user and the staff user, and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None, help="Password for both users (default: DEMO_PASSWORD or a fixed demo one).")
        parser.add_argument("--force", action="store_true", help="Allow running with DJANGO_ENV=production.")

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("seed_demo creates known credentials; refusing in production without --force")
        password = options["password"] or getattr(settings, "DEMO_PASSWORD", "") or "demo-pass-2026"
        if self._users_seeded(password):
            with transaction.atomic():
                self._seed_domains()
        else:
            self._seed_users_and_domains(password)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec['role']:<6} {spec['email']:<20} password: {password}")

    def _users_seeded(self, password: str) -> bool:
        """Both demo users exist, not deleted, as DEMO_USERS says, each with a verified primary address
        and ``password``: one query, and the two password checks (as costly as setting them)."""
        wanted = {spec["email"]: spec for spec in DEMO_USERS}
        address = EmailAddress.objects.filter(user=OuterRef("pk"), email=OuterRef("email"), verified=True, primary=True)
        users = list(
            User.objects.filter(email__in=wanted, deleted_at__isnull=True)
            .annotate(address_ready=Exists(address))
            .only("email", "password", "role", "subscription_tier")
        )
        if len(users) != len(wanted):
            return False
        for user in users:
            spec = wanted[user.email]
            if not user.address_ready or user.role != spec["role"] or user.subscription_tier != spec["tier"]:
                return False
        # Checked without writing: a password changed since takes the other path, which resets it.
        return all(check_password(password, user.password) for user in users)

    def _seed_users_and_domains(self, password: str) -> None:
        with transaction.atomic():
            for spec in DEMO_USERS:
                user = User.objects.filter(email=spec["email"]).first()
                if user is None:
                    user = User.objects.create_user(spec["email"], password, name=spec["name"])
                else:
                    user.set_password(password)
                    user.deleted_at = None
                    user.save(update_fields=["password", "deleted_at", "updated_at"])
                changed = [f for f, v in (("role", spec["role"]), ("subscription_tier", spec["tier"])) if getattr(user, f) != v]
                if changed:
                    user.role, user.subscription_tier = spec["role"], spec["tier"]
                    user.save(update_fields=[*changed, "updated_at"])
                EmailAddress.objects.update_or_create(
                    user=user, email=spec["email"], defaults={"verified": True, "primary": True}
                )
            self._seed_domains()

    def _seed_domains(self):
        """Other apps add their demo data here as they grow (agents, documents, ...)."""
        from django.apps import apps

        for config in apps.get_app_configs():
            seed = getattr(config, "seed_demo", None)
            if callable(seed):
                seed()
