from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from core.exceptions import Conflict

from .models import AssignmentGroup, User
from .services import guard_admin_access, other_active_admins


class GuardedUserChangeForm(UserChangeForm):
    """The admin's user form refuses what the API refuses: an admin locking themselves or the last admin out."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        roles = [group.name for group in cleaned.get("groups") or []]
        stored = User.objects.get(pk=self.instance.pk)  # the form has already copied its values onto instance
        try:
            guard_admin_access(
                actor=self.request_user,
                user=stored,
                data={
                    "is_active": cleaned.get("is_active"),
                    "is_superuser": bool(cleaned.get("is_superuser")),
                    "roles": roles,
                },
            )
        except Conflict as exc:
            raise ValidationError(str(exc))
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Service desk", {"fields": ("manager", "phone", "department", "time_zone")}),
        # Set by directory sign-in and SSO (accounts/identity), shown so an admin knows where to fix a profile.
        ("Sign-in", {"fields": ("identity_source", "external_id")}),
    )
    readonly_fields = ("identity_source", "external_id")
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "department",
        "identity_source",
        "is_active",
    )
    list_filter = ("groups", "identity_source", "is_active", "is_superuser")
    raw_id_fields = ("manager",)
    form = GuardedUserChangeForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    def has_delete_permission(self, request, obj=None):
        """Users are deactivated, not deleted, when they are the acting admin or the last admin."""
        if obj is not None and (obj.pk == request.user.pk or not other_active_admins(obj).exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "email", "active")
    search_fields = ("name", "description")
    filter_horizontal = ("members",)
