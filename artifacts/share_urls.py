"""URL map of /a/: public, read-only pages of shared artifact versions (see config/urls.py)."""

from django.urls import path

from . import views

app_name = "artifact_shares"

# A token is 43 URL-safe characters; another length still reaches the view, which answers 404.
urlpatterns = [
    path("<str:token>/", views.share_open, name="open"),
    path("<str:token>/frame/", views.share_frame, name="frame"),
    path("<str:token>/image/", views.share_image, name="image"),
    path("<str:token>/download/", views.share_download, name="download"),
]
