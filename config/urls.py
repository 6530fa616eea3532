from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from accounts.forms import EmailPasswordResetForm
from core import health

handler500 = health.server_error  # a 503 while the database is down

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # probes: anonymous, exempt from the HTTPS redirect
    path("readyz", health.readyz, name="readyz"),
    path("connexion/", account_views.LoginView.as_view(), name="login"),
    path("connexion/code/", account_views.second_factor_view, name="second_factor"),
    path("connexion/application/", account_views.second_factor_enrol_view, name="second_factor_enrol"),
    path("deconnexion/", account_views.LogoutView.as_view(), name="logout"),
    path("compte/", account_views.account_view, name="account"),
    path("compte/fonction/", account_views.function_set_view, name="account_function"),
    path("compte/jetons/<int:pk>/revoquer/", account_views.token_revoke_view, name="token_revoke"),
    path("compte/codes-de-secours/", account_views.backup_codes_renew_view, name="backup_codes_renew"),
    path("compte/mot-de-passe/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "mot-de-passe/oubli/",
        auth_views.PasswordResetView.as_view(form_class=EmailPasswordResetForm),
        name="password_reset",
    ),
    path("mot-de-passe/oubli/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("notifications.urls")),
    path("", include("deadlines.urls")),
    path("", include("cidff.urls")),
    path("", include("parquet.urls")),
    path("", include("stats.urls")),
    path("", include("retention.urls")),
    path("", include("referrals.urls")),
]
