from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("settings/", views.settings_view, name="settings"),
    path("sessions/", views.sessions_view, name="sessions"),
    path("sessions/others/revoke/", views.sessions_revoke_others_view, name="sessions_revoke_others"),
    path("sessions/<uuid:session_id>/revoke/", views.session_revoke_view, name="session_revoke"),
    path("delete/", views.delete_account_view, name="delete"),
    path("invitations/", views.invitations_view, name="invitations"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("invite/<uuid:invitation_id>/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("verify/resend/", views.verification_resend_view, name="verification_resend"),
    path("language/", views.set_language_view, name="set_language"),
]
