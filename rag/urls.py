from django.urls import path

from . import views

app_name = "rag"

urlpatterns = [
    path("<uuid:document_id>/", views.document_detail, name="document"),
]
