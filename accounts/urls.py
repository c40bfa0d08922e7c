from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .identity import oidc
from .identity import views as identity_views

app_name = "accounts"

urlpatterns = [
    path("login/", views.ThrottledLoginView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("sso/login/", oidc.SingleSignOnStartView.as_view(), name="oidc-login"),
    path("sso/callback/", oidc.SingleSignOnCallbackView.as_view(), name="oidc-callback"),
    path("identity/", identity_views.identity_settings, name="identity"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url="/accounts/password/change/done/"),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(success_url="/accounts/password/reset/done/"),
        name="password_reset",
    ),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url="/accounts/reset/done/"),
        name="password_reset_confirm",
    ),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
