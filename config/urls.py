from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from config import views
from core.health import healthz
from storage import share_urls

admin.site.site_header = "cjhirashi-agents"
admin.site.site_title = "cjhirashi-agents admin"
admin.site.index_title = _("Administration")

# URL prefixes name what people see; each maps to the app that serves it.
urlpatterns = [
    # --- config/ (this package): health probe, start page ---
    path("healthz", healthz, name="healthz"),
    path("", views.home, name="home"),
    path("theme/", views.theme_set, name="theme_set"),
    path("notices/offline/dismiss/", views.offline_notice_dismiss, name="offline_notice_dismiss"),
    # --- /admin/ → Django admin (each app's admin.py); its login goes through allauth ---
    path("admin/", admin.site.urls),
    # --- /accounts/ → allauth (sign-in, sign-up, e-mail, 2FA), with accounts/ views in front ---
    # Our verification views first: single-use links and a page that says what to do next.
    path("accounts/confirm-email/", account_views.verification_sent, name="account_email_verification_sent"),
    path("accounts/confirm-email/<str:key>/", account_views.email_confirm, name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    # --- /account/ → accounts/ (settings, sessions, invitations, deletion) ---
    path("account/", include("accounts.urls")),
    # --- /agents/ → agents/ ---
    path("agents/", include("agents.urls")),
    # --- /chat/ → chats/ ---
    path("chat/", include("chats.urls")),
    # --- /usage/ → metrics/ ---
    path("usage/", include("metrics.urls")),
    # --- /documents/ → rag/ ---
    path("documents/", include("rag.urls")),
    # --- /files/ → storage/ ---
    path("files/", include("storage.urls")),
    # --- /s/ → storage/share_urls.py (public share links); its owner pages (links, logs, trash) under /files/ ---
    path("s/", include("storage.share_urls")),
    path("files/", include((share_urls.owner_urlpatterns, "shares_owner"))),
    # --- /artifacts/ → artifacts/; /a/ → its public share pages ---
    path("artifacts/", include("artifacts.urls")),
    path("a/", include("artifacts.share_urls")),
    # --- /finance/ → finance/ ---
    path("finance/", include("finance.urls")),
    # --- /health/ → health/ ---
    path("health/", include("health.urls")),
    # --- /support/ → support/ ---
    path("support/", include("support.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.not_found"
handler429 = "config.views.too_many_requests"  # read by allauth's rate limits
handler500 = "config.views.server_error"
