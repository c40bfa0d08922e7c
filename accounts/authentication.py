"""Token authentication whose tokens expire after API_TOKEN_TTL_DAYS.

DRF's stock tokens never expire; an expired token here gets a 401 that says so, so an integrator knows to
request a new one rather than suspecting its credentials.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .models import User
from .roles import remember_role_names

# One statement for the token, its user and the user's role (group) names. Raw SQL because it runs on
# every token-authenticated request (integrations send nothing else): the ORM spelling of the same query
# (select_related plus an ArraySubquery annotation) spent about 1 ms compiling it each time, against 0.3 ms
# for the whole raw round trip; and prepared once per connection (core.postgresql), so the server does not
# plan it again for every request. It names the user's columns (a prepared statement's columns are fixed).
# They are all plain types (no from_db_value converters); tests/core/test_api_basics.py checks the user
# read here against the ORM's.
_USER_FIELDS = User._meta.concrete_fields
TOKEN_USER_SQL = f"""
    SELECT {", ".join(f'u."{field.column}"' for field in _USER_FIELDS)}, t.created,
           ARRAY(SELECT g.name FROM auth_group g JOIN accounts_user_groups m ON m.group_id = g.id
                 WHERE m.user_id = u.id)
      FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id
     WHERE t.key = $1
"""  # noqa: S608 (the only interpolation is the model's own column names)


def user_for_token(key: str) -> tuple[User, datetime, list[str]] | None:
    """The token's user, the token's creation time and the user's role names; None for an unknown key."""
    with connection.cursor() as cursor:
        connection.execute_prepared(cursor, "itsm_token_user", TOKEN_USER_SQL, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    *user_values, created, role_names = row
    user = User.from_db(connection.alias, [field.attname for field in _USER_FIELDS], user_values)
    return user, created, role_names


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token check, plus expiry; the token, its user and the user's role names come in one query
    (every API view asks for the roles)."""

    def authenticate_credentials(self, key):
        found = user_for_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, created, role_names = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if created < timezone.now() - timedelta(days=settings.API_TOKEN_TTL_DAYS):
            raise exceptions.AuthenticationFailed(
                "Token has expired; request a new one from POST /api/v1/auth/token/."
            )
        remember_role_names(user, role_names)
        token = Token(key=key, user=user, created=created)
        token._state.adding = False  # the row exists: it was just read
        return user, token
