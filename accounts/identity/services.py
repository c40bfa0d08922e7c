"""The writes of enterprise identity: apply what the directory or the SSO provider says about a user, and
deactivate users who left the directory.

One function serves LDAP sign-in, the nightly sync and OIDC sign-in, so the three can never disagree on
how a directory group becomes a role. The directory owns only what its mapping names: roles and assignment
groups that appear as values of IDENTITY_ROLE_MAP / IDENTITY_GROUP_MAP are granted and taken away from
directory memberships; any other role or group an admin gave the user by hand stays as it is.
Every change is written on the user's timeline with the source that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import ApiToken, AssignmentGroup, IdentitySource, User
from accounts.roles import ALL_ROLES, REQUESTER
from core import services as core_services
from core.choices import ActivityKind

from . import config

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "department")


@dataclass
class DirectoryProfile:
    """What a directory or provider says about one user, in our terms."""

    source: str  # IdentitySource.LDAP or OIDC
    external_id: str  # the LDAP DN or the OIDC subject
    fields: dict[str, str] = field(default_factory=dict)  # of PROFILE_FIELDS
    group_names: set[str] = field(default_factory=set)  # directory groups (cn) or the groups claim


def mapped_roles(group_names) -> set[str]:
    """The roles these directory groups grant (never `requester`: everyone holds it)."""
    mapping = config.role_map()
    return {mapping[name.lower()] for name in group_names if name.lower() in mapping} - {REQUESTER}


def mapped_assignment_groups(group_names) -> set[str]:
    mapping = config.group_map()
    return {mapping[name.lower()] for name in group_names if name.lower() in mapping}


def _fit(user: User, name: str, value) -> str:
    """A directory value cut to our column's length (a 300-character department must not fail sign-in)."""
    text = "" if value is None else str(value).strip()
    limit = User._meta.get_field(name).max_length
    return text[:limit] if limit else text


@transaction.atomic
def apply_profile(user: User, profile: DirectoryProfile, *, manager: User | None | bool = False) -> dict:
    """Bring `user` in line with `profile`; returns what changed ({} when nothing did).

    `manager`: the user's manager from the directory (a User, or None for "has none"); False leaves the
    manager alone (OIDC carries no manager). Roles and assignment groups change only within the mapping
    (module docstring). Side effect: one timeline row on the user when anything changed."""
    changes: dict = {}
    for name, value in profile.fields.items():
        if name not in PROFILE_FIELDS:
            continue
        new = _fit(user, name, value)
        if getattr(user, name) != new:
            changes[name] = [getattr(user, name), new]
            setattr(user, name, new)
    if user.identity_source != profile.source or user.external_id != profile.external_id[:512]:
        changes["identity"] = [user.identity_source, profile.source]
        user.identity_source = profile.source
        user.external_id = profile.external_id[:512]
    if manager is not False:
        manager_id = manager.pk if manager is not None and manager.pk != user.pk else None
        if user.manager_id != manager_id:
            changes["manager"] = [
                user.manager.username if user.manager_id else None,
                manager.username if manager_id else None,
            ]
            user.manager_id = manager_id
    if user.pk is None or changes:
        user.save()

    managed_roles = set(config.role_map().values()) & set(ALL_ROLES)
    wanted_roles = mapped_roles(profile.group_names) & managed_roles
    held_roles = set(user.groups.filter(name__in=managed_roles).values_list("name", flat=True))
    if wanted_roles != held_roles:
        user.groups.remove(*Group.objects.filter(name__in=held_roles - wanted_roles))
        user.groups.add(*Group.objects.filter(name__in=wanted_roles - held_roles))
        changes["roles"] = [sorted(held_roles), sorted(wanted_roles)]
        user._role_names = None

    managed_groups = set(config.group_map().values())
    wanted_groups = mapped_assignment_groups(profile.group_names)
    held_groups = set(user.assignment_groups.filter(name__in=managed_groups).values_list("name", flat=True))
    if wanted_groups != held_groups:
        user.assignment_groups.remove(*AssignmentGroup.objects.filter(name__in=held_groups - wanted_groups))
        user.assignment_groups.add(*AssignmentGroup.objects.filter(name__in=wanted_groups - held_groups))
        existing = set(AssignmentGroup.objects.filter(name__in=wanted_groups).values_list("name", flat=True))
        if existing != held_groups:
            changes["assignment_groups"] = [sorted(held_groups), sorted(existing)]

    if changes:
        core_services.record_activity(
            user,
            kind=ActivityKind.FIELD_CHANGE,
            actor=None,
            public=False,
            data={"identity_refresh": profile.source, "changes": changes},
        )
    return changes


@transaction.atomic
def deactivate_leaver(user: User, *, reason: str) -> int:
    """Deactivate a user the directory no longer knows (or has disabled) and revoke their API tokens.

    Deactivation alone already stops the tokens (token authentication reads `is_active` with the token);
    the tokens are deleted too, so reactivating the account later does not bring old keys back to life.
    Returns the number of tokens revoked. Side effect: a timeline row on the user naming the reason."""
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    user.is_active = False
    user.save(update_fields=["is_active"])
    core_services.record_activity(
        user,
        kind=ActivityKind.FIELD_CHANGE,
        actor=None,
        public=False,
        data={"deactivated_by": "directory sync", "reason": reason, "tokens_revoked": revoked},
    )
    return revoked


def is_directory_user(user: User) -> bool:
    return user.identity_source in (IdentitySource.LDAP, IdentitySource.OIDC)
