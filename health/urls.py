"""URL map of /health/ (see config/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "health"

urlpatterns: list = []
