"""Token authentication whose tokens expire after API_TOKEN_TTL_DAYS.

DRF's stock tokens never expire; an expired token here gets a 401 that says so, so an integrator knows to
request a new one rather than suspecting its credentials.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - timedelta(days=settings.API_TOKEN_TTL_DAYS):
            raise exceptions.AuthenticationFailed(
                "Token has expired; request a new one from POST /api/v1/auth/token/."
            )
        return user, token
