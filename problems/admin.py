from django.contrib import admin

from .models import Problem


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    """Read-only: edits go through the workspace so services write the timeline."""

    list_display = ("number", "short_description", "state", "priority", "known_error", "assignment_group")
    list_filter = ("state", "known_error")
    search_fields = ("number", "short_description")
    readonly_fields = [f.name for f in Problem._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False
