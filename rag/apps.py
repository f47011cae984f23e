from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RagConfig(AppConfig):
    name = "rag"
    verbose_name = _("Documents")

    def ready(self):
        from . import checks  # noqa: F401 - registers the embedder and vector-store checks
