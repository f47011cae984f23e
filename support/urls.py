"""URL map of /support/ (see config/urls.py)."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="new"),
    path("new/suggestions/", views.deflection, name="deflection"),
    path("help/", views.help_index, name="help"),
    path("help/<slug:slug>/", views.help_article, name="article"),
    path("<uuid:ticket_id>/", views.ticket_detail, name="detail"),
    path("<uuid:ticket_id>/messages/", views.ticket_messages, name="messages"),
    path("<uuid:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("<uuid:ticket_id>/close/", views.ticket_close, name="close"),
    path("<uuid:ticket_id>/reopen/", views.ticket_reopen, name="reopen"),
    path("<uuid:ticket_id>/rate/", views.ticket_rate, name="rate"),
    path("<uuid:ticket_id>/solved-by/<uuid:message_id>/", views.ticket_ai_resolved, name="ai_resolved"),
    path("<uuid:ticket_id>/files/<uuid:file_id>/", views.ticket_attachment, name="attachment"),
]
