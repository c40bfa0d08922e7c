"""The roles of SPEC §2, kept as Django groups (created by migration 0002).

A role is a permission bundle, not a team: assignment groups are `accounts.AssignmentGroup`. Code asks
`has_role(user, AGENT)` rather than testing group names inline, so the rules live in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group

if TYPE_CHECKING:
    from .models import User

REQUESTER = "requester"  # every user: the portal, own records only
AGENT = "agent"  # works incidents, requests, problems; sees all of them
CHANGE_MANAGER = "change_manager"  # owns changes
CAB_MEMBER = "cab_member"  # approves changes
KNOWLEDGE_MANAGER = "knowledge_manager"  # reviews and publishes articles
CMDB_MANAGER = "cmdb_manager"  # edits the CMDB
ADMIN = "admin"  # configures the suite; superusers count as admin

ALL_ROLES = [REQUESTER, AGENT, CHANGE_MANAGER, CAB_MEMBER, KNOWLEDGE_MANAGER, CMDB_MANAGER, ADMIN]
# Roles that make a user "staff" in the workspace sense: they land on the agent home, not the portal.
WORKSPACE_ROLES = {AGENT, CHANGE_MANAGER, CAB_MEMBER, KNOWLEDGE_MANAGER, CMDB_MANAGER, ADMIN}


def role_names(user: User) -> set[str]:
    """The user's role names, cached on the instance for the request."""
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = remember_role_names(user, user.groups.values_list("name", flat=True))
    return cached


def remember_role_names(user: User, group_names) -> set[str]:
    """Cache the user's roles from the names of their Django groups, already read by the caller (token
    authentication reads them in the same query as the token, saving a query on every API request)."""
    names = set(group_names)
    names.add(REQUESTER)
    if user.is_superuser:
        names.add(ADMIN)
    user._role_names = names
    return names


def has_role(user: User, *roles: str) -> bool:
    """True when the user holds any of `roles`; admins hold every role."""
    names = role_names(user)
    return ADMIN in names or any(role in names for role in roles)


def is_admin(user: User) -> bool:
    return ADMIN in role_names(user)


def is_workspace_user(user: User) -> bool:
    return bool(role_names(user) & WORKSPACE_ROLES)


def ensure_role_groups() -> None:
    """Create any missing role group (the migration creates them; a flushed test database needs them back)."""
    existing = set(Group.objects.filter(name__in=ALL_ROLES).values_list("name", flat=True))
    Group.objects.bulk_create([Group(name=name) for name in ALL_ROLES if name not in existing])
