"""Who may see and change vendors, contracts, software and licenses (SPEC §8): workspace roles read,
cmdb_manager and admin write, requesters get 404 for all of it (the resource does not exist for them)."""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import is_workspace_user
from cmdb.permissions import can_edit_cmdb


def can_edit_contracts(user) -> bool:
    return can_edit_cmdb(user)


class ContractsPermission(BasePermission):
    message = "Only CMDB managers and admins can change vendors, contracts, software and licenses."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # anonymous: 401
        if request.method.upper() not in view.allowed_methods:
            return True  # let the view answer 405 for a method no one may use
        if not is_workspace_user(request.user):
            raise NotFound()
        return request.method in SAFE_METHODS or can_edit_contracts(request.user)
