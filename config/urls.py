from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from core.health import healthz

admin.site.site_header = "cjhirashi-agents"
admin.site.site_title = "cjhirashi-agents admin"
admin.site.index_title = _("Administration")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", account_views.home_view, name="home"),
    path("admin/", admin.site.urls),
    # Our confirmation view first: it adds single-use tokens to allauth's.
    path("accounts/confirm-email/", account_views.verification_sent_view, name="account_email_verification_sent"),
    path("accounts/confirm-email/<str:key>/", account_views.confirm_email_view, name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("agents/", include("agents.urls")),
    path("chat/", include("chats.urls")),
    path("usage/", include("metrics.urls")),
    path("documents/", include("rag.urls")),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
