"""The Celery app: broker on Redis, tasks discovered in each domain app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cjh")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
