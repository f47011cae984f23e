"""URL map of /a/: public, read-only pages of shared artifact versions (see config/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "artifact_shares"

urlpatterns: list = []
