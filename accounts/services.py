"""Writes to users and groups (admin API and admin pages)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.api.serializers import set_roles
from core import services as core_services
from core.choices import ActivityKind

User = get_user_model()


@transaction.atomic
def user_save(*, actor, instance=None, data: dict) -> User:
    """Create or update a user; roles and password are applied explicitly, and the change is audited."""
    data = dict(data)
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


@transaction.atomic
def issue_token(*, user) -> Token:
    """A fresh API token: the previous one stops working, and the expiry clock restarts."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
