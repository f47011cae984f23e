from django.urls import path

from . import views

app_name = "agents"

# "new" comes before "<slug:slug>/", which is why "new" is a reserved slug (agents.validation).
urlpatterns = [
    path("", views.catalog_view, name="catalog"),
    path("new/", views.create_view, name="create"),
    path("<slug:slug>/", views.detail_view, name="detail"),
    path("<slug:slug>/edit/", views.edit_view, name="edit"),
    path("<slug:slug>/deactivate/", views.deactivate_view, name="deactivate"),
    path("<slug:slug>/activate/", views.activate_view, name="activate"),
    path("<slug:slug>/access/", views.access_view, name="access"),
    path("<slug:slug>/access/visibility/", views.visibility_view, name="visibility"),
    path("<slug:slug>/access/revoke/<uuid:user_id>/", views.revoke_view, name="revoke"),
]
