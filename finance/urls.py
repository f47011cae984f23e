"""URL map of /finance/ (see config/urls.py)."""

from django.urls import path  # noqa: F401

app_name = "finance"

urlpatterns: list = []
