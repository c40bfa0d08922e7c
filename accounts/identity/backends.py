"""Local passwords: Django's ModelBackend, minus the accounts that must use the directory or SSO.

Local accounts stay for admins and small teams. When SSO_REQUIRED is on, a local password opens only the
accounts named in SSO_BREAK_GLASS_USERS (the admin who repairs a broken SSO configuration); everyone else
signs in through the directory or the SSO button. Users created by the directory or the provider never
have a usable local password, so this backend cannot let them in by another door either.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from accounts.models import IdentitySource

from . import config


class LocalPasswordBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and "\x00" in str(username):
            return None  # PostgreSQL refuses NUL in text: a lookup would fail, never match
        return super().authenticate(request, username=username, password=password, **kwargs)

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if user.username.lower() in config.break_glass_users():
            return True  # even after signing in once through SSO: the way in when SSO is broken
        if user.identity_source != IdentitySource.LOCAL:
            return False
        return not config.sso_required()
