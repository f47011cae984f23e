from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"

    def ready(self):
        from . import checks  # noqa: F401 - registers the accent-folding check
