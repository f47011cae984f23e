from django.urls import path

from . import views

app_name = "agents"

# "new" comes before "<slug:slug>/", which is why "new" is a reserved slug (agents.validation).
urlpatterns = [
    path("", views.agent_catalog, name="catalog"),
    path("new/", views.agent_new, name="create"),
    path("<slug:slug>/", views.agent_detail, name="detail"),
    path("<slug:slug>/edit/", views.agent_edit, name="edit"),
    path("<slug:slug>/deactivate/", views.agent_deactivate, name="deactivate"),
    path("<slug:slug>/activate/", views.agent_activate, name="activate"),
    path("<slug:slug>/access/", views.agent_access, name="access"),
    path("<slug:slug>/access/visibility/", views.agent_visibility, name="visibility"),
    path("<slug:slug>/access/revoke/<uuid:user_id>/", views.agent_access_revoke, name="revoke"),
]
