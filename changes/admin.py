from django.contrib import admin

from .models import BlackoutWindow, Change, ChangeTemplate


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "risk", "assignment_group", "active")
    list_filter = ("active", "risk")
    search_fields = ("name", "short_description")


@admin.register(BlackoutWindow)
class BlackoutWindowAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "created_by")
    search_fields = ("name",)
    raw_id_fields = ("created_by", "configuration_items")


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """Read-only: edits go through the workspace so services write the timeline and check conflicts."""

    list_display = ("number", "short_description", "type", "state", "risk", "planned_start", "planned_end")
    list_filter = ("state", "type", "risk")
    search_fields = ("number", "short_description")
    readonly_fields = [f.name for f in Change._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False
