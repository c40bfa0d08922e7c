"""Authentication by personal access token (SPEC §9): `Authorization: Token itsm_pat_...`.

A token may expire (`expires_at`); an expired token gets a 401 that says so, so an integrator knows to
request a new one rather than suspecting its credentials. A `read` token gets 403 on every method but
GET, HEAD and OPTIONS, checked here once for every DRF view (their own permission classes vary). A
deactivated user's tokens stop at the next request: the user's `is_active` is read with the token.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS

from .models import ApiToken, TokenScope, User
from .roles import remember_role_names
from .tokens import hash_key

# One statement for the token, its user and the user's role (group) names. Raw SQL because it runs on
# every token-authenticated request (integrations send nothing else): the ORM spelling of the same query
# (select_related plus an ArraySubquery annotation) spent about 1 ms compiling it each time, against 0.3 ms
# for the whole raw round trip; and prepared once per connection (core.postgresql), so the server does not
# plan it again for every request. It names the user's columns (a prepared statement's columns are fixed).
# Fields with a converter (`list_columns`, JSON) go through their `from_db_value`, as the ORM would;
# tests/core/test_api_basics.py checks the user read here against the ORM's.
# `last_used_at` is refreshed by the same statement (a data-modifying CTE), at most once a minute per
# token, so keeping it costs no extra round trip and no write on most requests.
_USER_FIELDS = User._meta.concrete_fields
TOKEN_USER_SQL = f"""
    WITH t AS (
        SELECT id, user_id, scope, created_at, expires_at, last_used_at
          FROM accounts_apitoken WHERE key_hash = $1
    ), touched AS (
        UPDATE accounts_apitoken a SET last_used_at = now() FROM t
         WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
    )
    SELECT {", ".join(f'u."{field.column}"' for field in _USER_FIELDS)},
           t.id, t.scope, t.created_at, t.expires_at, t.last_used_at,
           ARRAY(SELECT g.name FROM auth_group g JOIN accounts_user_groups m ON m.group_id = g.id
                 WHERE m.user_id = u.id)
      FROM t JOIN accounts_user u ON u.id = t.user_id
"""  # noqa: S608 (the only interpolation is the model's own column names)


def user_for_token(key: str) -> tuple[User, ApiToken, list[str]] | None:
    """The token's user, the token and the user's role names; None for an unknown key."""
    with connection.cursor() as cursor:
        connection.execute_prepared(cursor, "itsm_api_token_user", TOKEN_USER_SQL, [hash_key(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    *user_values, token_id, scope, created_at, expires_at, last_used_at, role_names = row
    user_values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(_USER_FIELDS, user_values, strict=True)
    ]
    user = User.from_db(connection.alias, [field.attname for field in _USER_FIELDS], user_values)
    token = ApiToken(
        id=token_id,
        user=user,
        scope=scope,
        created_at=created_at,
        expires_at=expires_at,
        last_used_at=last_used_at,
    )
    token._state.adding = False  # the row exists: it was just read
    return user, token, role_names


def token_expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Token` header, checked against hashed personal access tokens; expiry and scope enforced.
    The token, its user and the user's role names come in one query (every API view asks for the roles)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and result[1].scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied('This token is read-only (scope "read"); use a write token.')
        return result

    def authenticate_credentials(self, key):
        found = user_for_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token, role_names = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token_expired(token.expires_at):
            raise exceptions.AuthenticationFailed(
                "Token has expired; create a new one (POST /api/v1/auth/tokens/ or /api/v1/auth/token/)."
            )
        remember_role_names(user, role_names)
        return user, token
