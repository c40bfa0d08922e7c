from django.contrib import admin

from .models import Category, Incident


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("label", "name", "active")
    prepopulated_fields = {"name": ("label",)}


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: edits go through the workspace so services write the timeline."""

    list_display = ("number", "short_description", "state", "priority", "assignment_group", "assigned_to")
    list_filter = ("state", "priority", "major")
    search_fields = ("number", "short_description")
    readonly_fields = [f.name for f in Incident._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False
