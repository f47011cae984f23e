"""``migrate`` runs as the owner role unless told otherwise: the runtime role may not change the schema."""

from django.core.management.commands.migrate import Command as MigrateCommand


class Command(MigrateCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "database":
                action.default = "owner"
                action.help = "Nominates a database to synchronize. Defaults to the owner role's connection."
