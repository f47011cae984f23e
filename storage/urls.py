from django.urls import path

from . import views

app_name = "storage"

urlpatterns = [
    path("", views.file_list, name="list"),
    path("upload/", views.file_upload, name="upload"),
    path("folders/new/", views.folder_create, name="folder_create"),
    path("folders/<uuid:folder_id>/", views.folder_detail, name="folder"),
    path("folders/<uuid:folder_id>/rename/", views.folder_rename, name="folder_rename"),
    path("folders/<uuid:folder_id>/move/", views.folder_move, name="folder_move"),
    path("<uuid:file_id>/", views.file_detail, name="file"),
    path("<uuid:file_id>/download/", views.file_download, name="download"),
    path("<uuid:file_id>/preview/", views.file_preview, name="preview"),
    path("<uuid:file_id>/rename/", views.file_rename, name="file_rename"),
    path("<uuid:file_id>/move/", views.file_move, name="file_move"),
    path("<uuid:file_id>/details/", views.file_details, name="file_details"),
]
