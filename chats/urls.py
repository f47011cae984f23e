from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("sidebar/", views.conversation_sidebar, name="sidebar"),
    path("new/<slug:slug>/", views.conversation_new, name="new"),
    path("<uuid:conversation_id>/", views.conversation_detail, name="detail"),
    path("<uuid:conversation_id>/messages/", views.message_create, name="message_create"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/stream/", views.reply_stream, name="reply_stream"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/generate/", views.reply_generate, name="reply_generate"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/stop/", views.reply_stop, name="reply_stop"),
    path("<uuid:conversation_id>/regenerate/", views.reply_regenerate, name="regenerate"),
    path("<uuid:conversation_id>/rename/", views.conversation_rename, name="rename"),
    path("<uuid:conversation_id>/delete/", views.conversation_delete, name="delete"),
    path("<uuid:conversation_id>/pin/", views.conversation_pin, name="pin"),
    path("<uuid:conversation_id>/title/", views.conversation_title, name="title"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/feedback/", views.message_feedback, name="feedback"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/edit/", views.message_edit, name="message_edit"),
    path("<uuid:conversation_id>/messages/<uuid:message_id>/select/", views.answer_select, name="answer_select"),
    path("new/<slug:slug>/attachments/add/", views.attachment_create_new, name="attachment_create_new"),
    path("<uuid:conversation_id>/attachments/", views.attachment_list, name="attachments"),
    path("<uuid:conversation_id>/attachments/add/", views.attachment_create, name="attachment_create"),
    path("<uuid:conversation_id>/attachments/<uuid:attachment_id>/delete/", views.attachment_delete,
         name="attachment_delete"),
    path("<uuid:conversation_id>/export.md", views.conversation_export_markdown, name="export_md"),
    path("<uuid:conversation_id>/export.json", views.conversation_export_json, name="export_json"),
]
