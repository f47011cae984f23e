from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"

    def ready(self):
        from . import checks  # noqa: F401 - registers the index check (artifacts.W001)
