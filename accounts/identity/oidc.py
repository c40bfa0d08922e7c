"""Single sign-on with an OpenID Connect provider, on mozilla-django-oidc.

The authorization-code flow with PKCE (S256) and a nonce; mozilla-django-oidc keeps state, nonce and code
verifier in the session and checks the ID token's signature against the provider's JWKS. We add what it
leaves to its users:

- the ID token's issuer must be OIDC_OP_ISSUER and its audience our client id (an unknown issuer is
  refused), and the userinfo answer must be about the same subject as the ID token;
- users are matched by subject first (stored in `external_id`), then by email; a new user gets a name
  from OIDC_USERNAME_CLAIM (made unique), and the `groups` claim is mapped to roles and assignment groups
  exactly as LDAP groups are (accounts.identity.services.apply_profile);
- every failure (tampered state or nonce, an expired or replayed code, a provider that is down) ends on
  the login page with a message, never a 400 or a 500;
- signing out also ends the provider's session when it has an end-session endpoint.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.models import IdentitySource, User

from . import config, names, services

logger = logging.getLogger(__name__)

FAILED_MESSAGE = (
    "Single sign-on did not complete, so you are not signed in. Try again; if it keeps failing, "
    "contact the service desk."
)
INACTIVE_MESSAGE = "Your account is deactivated. Contact the service desk."


def profile_from_claims(claims: dict) -> services.DirectoryProfile:
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = groups.split()
    fields = {
        "email": claims.get("email") or "",
        "first_name": claims.get("given_name") or "",
        "last_name": claims.get("family_name") or "",
    }
    if claims.get("phone_number"):
        fields["phone"] = claims["phone_number"]
    return services.DirectoryProfile(
        source=IdentitySource.OIDC,
        external_id=str(claims["sub"]),
        fields=fields,
        group_names={str(group) for group in groups if isinstance(group, str | int)},
    )


def unique_username(claims: dict) -> str:
    """A free username from the preferred name, else the email's local part, else the subject."""
    candidates = [claims.get(settings.OIDC_USERNAME_CLAIM), (claims.get("email") or "").split("@")[0]]
    base = next((str(c) for c in candidates if c and not names.directory_name_problem(str(c))), "")
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or "sso-user"
    username, counter = base, 1
    while User.objects.filter(username__iexact=username).exists():
        counter += 1
        username = f"{base}{counter}"
    return username


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with issuer and audience checks, subject matching and claim mapping.
    Inert (answers None) when OIDC is not configured and for password sign-ins."""

    def __init__(self, *args, **kwargs):
        self.enabled = config.oidc_enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        if not self.enabled or request is None or "nonce" not in kwargs:
            return None  # not an OIDC callback (a password sign-in asks every backend)
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:  # the ID token (a signed userinfo answer comes through here too)
            issuer = settings.OIDC_OP_ISSUER
            if not issuer or payload.get("iss") != issuer:
                raise SuspiciousOperation(f"ID token from an unknown issuer {payload.get('iss')!r}.")
            audience = payload.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if settings.OIDC_RP_CLIENT_ID not in audiences:
                raise SuspiciousOperation("ID token issued for another client.")
            if not payload.get("sub"):
                raise SuspiciousOperation("ID token without a subject.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims completed by the userinfo endpoint, which must speak of the same subject."""
        info = super().get_userinfo(access_token, id_token, payload)
        if str(info.get("sub")) != str(payload.get("sub")):
            raise SuspiciousOperation("Userinfo is about another subject than the ID token.")
        return {**payload, **info}

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        by_subject = User.objects.filter(identity_source=IdentitySource.OIDC, external_id=str(claims["sub"]))
        if by_subject.exists():
            return by_subject
        email = claims.get("email")
        if not email or claims.get("email_verified") is False:
            return User.objects.none()
        return User.objects.filter(email__iexact=email)

    def create_user(self, claims):
        user = User(username=unique_username(claims))
        user.set_unusable_password()
        services.apply_profile(user, profile_from_claims(claims))
        return user

    def update_user(self, user, claims):
        services.apply_profile(user, profile_from_claims(claims))
        return user


class SingleSignOnStartView(OIDCAuthenticationRequestView):
    """`Sign in with <provider>`: redirects to the provider with state, nonce and a PKCE challenge."""

    def __init__(self, *args, **kwargs):
        if config.oidc_enabled():
            super().__init__(*args, **kwargs)

    def get(self, request):
        if not config.oidc_enabled():
            raise Http404
        return super().get(request)


class SingleSignOnCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back to us. Any refusal lands on the login page with a message."""

    def get(self, request):
        if not config.oidc_enabled():
            raise Http404
        try:
            return super().get(request)
        except (
            SuspiciousOperation,
            requests.RequestException,
            jwt.PyJWTError,
            ValueError,
            KeyError,
        ) as error:
            logger.warning("single sign-on refused: %s", error)
            return self.login_failure()

    def login_failure(self):
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            messages.error(self.request, INACTIVE_MESSAGE)
        else:
            messages.error(self.request, FAILED_MESSAGE)
        return redirect("accounts:login")


def end_session_url(request) -> str | None:
    """Where to send the browser after a local sign-out so the provider's session ends too: its
    end-session endpoint with our ID token as hint, coming back to our login page. None without one."""
    endpoint = settings.OIDC_OP_END_SESSION_ENDPOINT
    id_token = request.session.get("oidc_id_token")
    if not (config.oidc_enabled() and endpoint and id_token):
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login")),
        }
    )
    return f"{endpoint}?{query}"
