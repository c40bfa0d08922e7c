"""Who may write the CMDB (SPEC §2): everyone with a workspace role reads it, cmdb_manager and admin write.

Object-level checks run after the object was fetched from `visible_cis`, so a CI the user may not see is
a 404 before any 403 could tell it exists.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import CMDB_MANAGER, has_role, is_admin


def can_edit_cmdb(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and has_role(user, CMDB_MANAGER)


class CMDBWritePermission(BasePermission):
    message = "Only CMDB managers and admins can change the CMDB."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # anonymous callers get 401, never an empty list
        if request.method in SAFE_METHODS or getattr(view, "detail", False):
            return True
        return can_edit_cmdb(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or can_edit_cmdb(request.user)


class AdminWritePermission(BasePermission):
    """CI classes and their attribute schemas are configuration: admins only."""

    message = "Only admins can change CI classes."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_admin(request.user)
