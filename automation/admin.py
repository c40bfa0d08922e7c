from django.contrib import admin

from .models import Macro, Rule, TimeRuleMatch


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Read-mostly: rules are edited in the workspace editor, which validates conditions and actions."""

    list_display = ("name", "applies_to", "trigger", "order", "active", "fire_count", "last_fired_at")
    list_filter = ("applies_to", "trigger", "active")
    readonly_fields = ("conditions", "actions", "fire_count", "last_fired_at", "last_error", "last_error_at")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "applies_to", "active")
    list_filter = ("applies_to", "active")
    readonly_fields = ("actions",)


@admin.register(TimeRuleMatch)
class TimeRuleMatchAdmin(admin.ModelAdmin):
    list_display = ("rule", "content_type", "object_id", "fired_at", "ended_at")
    list_filter = ("rule",)
