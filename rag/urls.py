from django.urls import path

from . import views

app_name = "rag"

urlpatterns = [
    path("", views.document_list, name="list"),
    path("add/", views.document_add, name="add"),
    path("add/file/", views.document_add_file, name="add_file"),
    path("add/text/", views.document_add_text, name="add_text"),
    path("add/url/", views.document_add_url, name="add_url"),
    path("status/", views.document_status, name="status"),
    path("settings/", views.rag_settings_edit, name="settings"),
    path("<uuid:document_id>/", views.document_detail, name="document"),
    path("<uuid:document_id>/edit/", views.document_edit, name="edit"),
    path("<uuid:document_id>/reindex/", views.document_reindex, name="reindex"),
    path("<uuid:document_id>/delete/", views.document_delete, name="delete"),
    path("<uuid:document_id>/passages/<int:position>/", views.passage_panel, name="passage"),
]
