from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("settings/", views.user_settings_edit, name="settings"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/others/revoke/", views.session_revoke_others, name="sessions_revoke_others"),
    path("sessions/<uuid:session_id>/revoke/", views.session_revoke, name="session_revoke"),
    path("delete/", views.account_delete, name="delete"),
    path("invitations/", views.invitation_list, name="invitations"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invite/<uuid:invitation_id>/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("verify/resend/", views.verification_resend, name="verification_resend"),
    path("language/", views.language_set, name="set_language"),
]
