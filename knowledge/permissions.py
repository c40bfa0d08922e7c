"""Who may do what with articles; one place so views, services and selectors agree."""

from __future__ import annotations

from accounts.roles import AGENT, KNOWLEDGE_MANAGER, has_role, is_workspace_user


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_author(user) -> bool:
    """Agents and knowledge managers write articles and see drafts."""
    return is_active_user(user) and has_role(user, AGENT, KNOWLEDGE_MANAGER)


def can_manage(user) -> bool:
    """Knowledge managers (and admins) publish, send back, retire and edit published articles."""
    return is_active_user(user) and has_role(user, KNOWLEDGE_MANAGER)


def sees_internal(user) -> bool:
    """Workspace users read published articles meant for agents only."""
    return is_active_user(user) and is_workspace_user(user)
