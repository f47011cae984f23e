"""URL map of /artifacts/ (see config/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "artifacts"

urlpatterns: list = []
