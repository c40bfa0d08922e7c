"""SLA configuration in the Django admin: calendars with inline hours and holidays, definitions, and a
read-only view of timers with their event log and escalation ledger."""

from django.contrib import admin

from .models import BusinessCalendar, Escalation, Holiday, SLADefinition, Timer, TimerEvent, WorkingHours


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 1


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "updated_at"]
    search_fields = ["name"]
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(SLADefinition)
class SLADefinitionAdmin(admin.ModelAdmin):
    """`clean()` runs sla.validation.validate_definition, so the admin refuses what the API refuses."""

    list_display = ["name", "applies_to", "target", "duration", "calendar", "active"]
    list_filter = ["applies_to", "target", "active"]
    search_fields = ["name"]


class TimerEventInline(admin.TabularInline):
    model = TimerEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "data"]


class EscalationInline(admin.TabularInline):
    model = Escalation
    extra = 0
    can_delete = False
    readonly_fields = ["stage", "actions", "done_at"]


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    list_display = ["definition", "content_type", "object_id", "state", "started_at", "due_at"]
    list_filter = ["state", "target", "definition"]
    list_select_related = ["definition", "content_type"]
    readonly_fields = [f.name for f in Timer._meta.fields]
    inlines = [TimerEventInline, EscalationInline]

    def has_add_permission(self, request):
        return False
