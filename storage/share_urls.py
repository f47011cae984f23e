"""Two URL maps of the sharing pages: ``urlpatterns`` (public, mounted at ``/s/``, namespace
``shares``) and ``owner_urlpatterns`` (the owner's links, logs and trash, mounted under ``/files/``,
namespace ``shares_owner``)."""

from django.urls import path, register_converter

from . import share_views, trash_views


class TokenConverter:
    """A link's secret: 43 URL-safe base64 characters (anything else is no link at all)."""

    regex = r"[A-Za-z0-9_-]{43}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TokenConverter, "share_token")

app_name = "shares"

urlpatterns = [
    path("<share_token:token>/", share_views.share_open, name="open"),
    path("<share_token:token>/download/", share_views.share_download, name="download"),
    path("<share_token:token>/view/", share_views.share_preview, name="preview"),
    path("<share_token:token>/files/<uuid:file_id>/download/", share_views.share_download, name="file_download"),
    path("<share_token:token>/files/<uuid:file_id>/view/", share_views.share_preview, name="file_preview"),
]

owner_urlpatterns = [
    path("links/file/<uuid:file_id>/", share_views.file_links, name="file_links"),
    path("links/folder/<uuid:folder_id>/", share_views.folder_links, name="folder_links"),
    path("links/<uuid:share_id>/revoke/", share_views.link_revoke, name="revoke"),
    path("links/<uuid:share_id>/log/", share_views.link_log, name="link_log"),
    path("log/<uuid:file_id>/", share_views.file_log, name="file_log"),
    path("trash/", trash_views.trash_list, name="trash"),
    path("trash/empty/", trash_views.trash_empty, name="trash_empty"),
    path("trash/add/<uuid:file_id>/", trash_views.trash_add, name="trash_add"),
    path("trash/<uuid:file_id>/restore/", trash_views.trash_restore, name="trash_restore"),
    path("trash/<uuid:file_id>/delete/", trash_views.trash_delete, name="trash_delete"),
]
