"""Writes to users and groups (admin API and admin pages)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Func, JSONField, Q, Value
from django.utils import timezone

from accounts import tokens
from accounts.api.serializers import set_roles
from accounts.models import ApiToken, TokenScope
from accounts.roles import ADMIN, role_names
from core import services as core_services
from core.choices import ActivityKind
from core.exceptions import Conflict

User = get_user_model()


@transaction.atomic
def user_save(*, actor, instance=None, data: dict) -> User:
    """Create or update a user; roles and password are applied explicitly, and the change is audited."""
    data = dict(data)
    if instance is not None:
        guard_admin_access(actor=actor, user=instance, data=data)
    roles = data.pop("roles", None)
    password = data.pop("password", None)
    groups = data.pop("assignment_groups", None)
    user = instance or User()
    for name, value in data.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
    elif instance is None:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        set_roles(user, roles)
    if groups is not None:
        user.assignment_groups.set(groups)
    core_services.record_activity(
        user,
        kind=ActivityKind.FIELD_CHANGE,
        actor=actor,
        public=False,
        data={"fields": sorted(data), "roles": roles, "password_changed": bool(password)},
    )
    return user


def guard_admin_access(*, actor, user, data: dict) -> None:
    """Refuse a write that would take admin access away from the acting admin or from the last active admin.

    Without this, one DELETE (an API fuzzer's, or a slip) deactivates the only admin and nobody can sign in to
    undo it. Raises Conflict (409) naming what was refused; ordinary edits of admins pass.
    """
    if not (user.is_active and ADMIN in role_names(user)):
        return
    deactivates = data.get("is_active") is False
    if "roles" in data:
        in_admin_group = ADMIN in set(data["roles"] or [])
    else:
        in_admin_group = user.groups.filter(name=ADMIN).exists()
    demotes = not (data.get("is_superuser", user.is_superuser) or in_admin_group)
    if not (deactivates or demotes):
        return
    if actor is not None and actor.pk == user.pk:
        raise Conflict(
            "You cannot deactivate your own account or remove your own admin role; ask another admin."
        )
    if not other_active_admins(user).exists():
        raise Conflict(f"{user.username} is the last active admin; make someone else an admin first.")


def other_active_admins(user):
    """Active users other than `user` who hold the admin role (the group, or superuser)."""
    return User.objects.filter(Q(is_superuser=True) | Q(groups__name=ADMIN), is_active=True).exclude(
        pk=user.pk
    )


_DEFAULT_EXPIRY = object()


@transaction.atomic
def issue_token(
    *,
    user,
    name: str = "default",
    scope: str = TokenScope.WRITE,
    expires_at: datetime | None | object = _DEFAULT_EXPIRY,
    actor=None,
) -> ApiToken:
    """A new personal access token; the user's other tokens keep working (SPEC §9).

    The returned token carries the plain key in `.key`, the only time it exists outside the client: only
    its hash is stored (accounts.tokens). Without `expires_at` it expires after API_TOKEN_TTL_DAYS; None
    means never. Audited on the user's timeline (name and scope, never the key)."""
    if expires_at is _DEFAULT_EXPIRY:
        expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS)
    key = tokens.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        key_hash=tokens.hash_key(key),
        prefix=key[: len(tokens.KEY_PREFIX) + 4],
        expires_at=expires_at,
    )
    token.key = key
    core_services.record_activity(
        user,
        kind=ActivityKind.FIELD_CHANGE,
        actor=actor or user,
        public=False,
        data={"token_created": name, "scope": scope},
    )
    return token


@transaction.atomic
def revoke_token(*, token: ApiToken, actor) -> None:
    """Revoke at once: the row goes, so the next request with its key gets 401."""
    core_services.record_activity(
        token.user,
        kind=ActivityKind.FIELD_CHANGE,
        actor=actor,
        public=False,
        data={"token_revoked": token.name, "scope": token.scope},
    )
    token.delete()


def save_list_columns(*, user: User, kind: str, columns: list[str] | None) -> None:
    """Keep the columns `user` chose for the `kind` list page (None or []: back to the default set).

    One UPDATE of the user's own row, of this one key: the JSON is merged in SQL so two tabs saving
    different lists do not undo each other. No audit row: it is a view preference, not data.
    """
    if columns:
        merged = Func(
            F("list_columns"), Value({kind: list(columns)}, JSONField()), function="", arg_joiner=" || "
        )
    else:
        merged = Func(F("list_columns"), Value(kind), function="", arg_joiner=" - ")
    User.objects.filter(pk=user.pk).update(list_columns=merged)
    preferences = dict(user.list_columns or {})
    if columns:
        preferences[kind] = list(columns)
    else:
        preferences.pop(kind, None)
    user.list_columns = preferences
