"""URL map of /artifacts/ (see config/urls.py)."""

from django.urls import path

from . import views

app_name = "artifacts"

urlpatterns = [
    path("", views.artifact_list, name="list"),
    path("new/", views.artifact_new, name="new"),
    path("delete/", views.artifact_bulk_delete, name="bulk_delete"),
    path("from-message/<uuid:message_id>/", views.artifact_from_message, name="from_message"),
    path("conversation/<uuid:conversation_id>/panel/", views.conversation_panel, name="conversation_panel"),
    path("<uuid:artifact_id>/", views.artifact_detail, name="detail"),
    path("<uuid:artifact_id>/panel/", views.artifact_panel, name="panel"),
    path("<uuid:artifact_id>/edit/", views.artifact_edit, name="edit"),
    path("<uuid:artifact_id>/diff/", views.artifact_diff, name="diff"),
    path("<uuid:artifact_id>/restore/", views.artifact_restore, name="restore"),
    path("<uuid:artifact_id>/share/", views.artifact_share, name="share"),
    path("<uuid:artifact_id>/unshare/", views.artifact_unshare, name="unshare"),
    path("<uuid:artifact_id>/delete/", views.artifact_delete, name="delete"),
    path("<uuid:artifact_id>/download/", views.artifact_download, name="download"),
    path("<uuid:artifact_id>/frame/", views.artifact_frame, name="frame"),
    path("<uuid:artifact_id>/image/", views.artifact_image, name="image"),
]
