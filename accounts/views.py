"""Sign-in with throttling; the other auth pages are Django's own views with our templates."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import services, throttling
from .identity import config as identity_config
from .identity import oidc
from .models import ApiToken, TokenScope
from .roles import is_workspace_user


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        address = client_address(self.request) if self.request else ""
        if not throttling.take_attempt(username, address):
            raise ValidationError(throttling.LOCKED_MESSAGE, code="locked")
        cleaned = super().clean()
        throttling.clear(username, address)
        return cleaned


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView (session key rotated at login, `next` checked against our host) plus throttling."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        """The SSO button (when OIDC is configured) and whether local passwords are limited to break-glass."""
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = identity_config.oidc_enabled()
        context["sso_provider_name"] = settings.OIDC_PROVIDER_NAME
        context["sso_required"] = identity_config.sso_required()
        context["directory_enabled"] = identity_config.ldap_enabled()
        return context


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST), then the SSO provider's end-session endpoint when the user came through
    single sign-on and the provider offers one, so the next "Sign in with…" asks for credentials again."""

    def post(self, request, *args, **kwargs):
        provider_logout = oidc.end_session_url(request)  # read before the session is flushed
        response = super().post(request, *args, **kwargs)
        if provider_logout:
            return redirect(provider_logout)
        return response


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What uses it, e.g. “Zabbix” or “backup script”")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect)
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        coerce=int,
        choices=[(7, "In 7 days"), (30, "In 30 days"), (90, "In 90 days"), (365, "In a year"), (0, "Never")],
        initial=90,
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's own API tokens: list, create (the key is shown on this answer only) and revoke."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        created = services.issue_token(
            user=request.user,
            actor=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    base_template = "base.html" if is_workspace_user(request.user) else "portal/base.html"
    context = {"form": form, "tokens": tokens, "created": created, "base_template": base_template}
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("accounts:api-tokens")
