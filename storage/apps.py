from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"

    def ready(self):
        from . import checks, signals  # noqa: F401 - registers the scanning check

        signals.connect()
