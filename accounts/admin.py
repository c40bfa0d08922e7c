from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import AssignmentGroup, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Service desk", {"fields": ("manager", "phone", "department", "time_zone")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "department", "is_active")
    list_filter = ("groups", "is_active", "is_superuser")
    raw_id_fields = ("manager",)


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "email", "active")
    search_fields = ("name", "description")
    filter_horizontal = ("members",)
