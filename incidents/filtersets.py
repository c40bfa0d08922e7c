"""The incident FilterSet: used by the agent list page and the API alike."""

import django_filters as filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce

from accounts.models import AssignmentGroup
from core.filtersets import (
    BooleanFilter,
    CharInFilter,
    ChoiceInFilter,
    DateTimeFilter,
    IdFilter,
    TicketFilterSet,
)
from core.models import Activity
from sla.models import Timer, TimerState
from sla.selectors import breaching_soon, filter_by_sla_state

from .choices import Impact, Urgency
from .models import Incident


class IncidentFilterSet(TicketFilterSet):
    # Groups are resolved to ids first (one tiny query): with a literal `assignment_group_id IN (...)` the
    # planner reads a group's queue from incident_queue_idx in order (a page is page-size index entries
    # and the count is index-only), where a join on the group's name made it walk the state index.
    assignment_group = CharInFilter(field_name="assignment_group__name", method="filter_assignment_group")
    caller = CharInFilter(field_name="caller__username")
    category = CharInFilter(field_name="category__name")
    impact = ChoiceInFilter(field_name="impact", choices=Impact.choices)
    urgency = ChoiceInFilter(field_name="urgency", choices=Urgency.choices)
    major = BooleanFilter(field_name="major")
    problem = CharInFilter(field_name="problem__number")
    parent = CharInFilter(field_name="parent__number")
    # The agent list's "SLA state" filter: any timer of the incident in this state.
    sla = filters.ChoiceFilter(choices=TimerState.choices, method="filter_sla_timer_state", label="SLA state")
    sla_breaching_soon = BooleanFilter(method="filter_breaching_soon", label="SLA due within 4 hours")
    # Used by the dashboards' links (reports): resolved in a window, reopened, and SLA outcomes.
    resolved_after = DateTimeFilter(field_name="resolved_at", lookup_expr="gte")
    resolved_before = DateTimeFilter(field_name="resolved_at", lookup_expr="lt")
    reopened = BooleanFilter(method="filter_reopened")
    sla_definition = IdFilter(method="filter_sla")
    sla_state = filters.ChoiceFilter(choices=[("met", "met"), ("breached", "breached")], method="filter_noop")
    sla_after = DateTimeFilter(method="filter_noop")
    sla_before = DateTimeFilter(method="filter_noop")

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_assignment_group(self, queryset, name, value):
        ids = list(AssignmentGroup.objects.filter(name__in=value).values_list("pk", flat=True))
        return queryset.filter(assignment_group_id__in=ids)

    def filter_reopened(self, queryset, name, value):
        """Incidents that left `resolved` for a working state at least once (their timeline says so)."""
        reopens = Activity.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident),
            object_id=OuterRef("pk"),
            kind="state_change",
            data__from="resolved",
        ).exclude(data__to__in=["closed", "canceled"])
        return queryset.filter(Exists(reopens)) if value else queryset.exclude(Exists(reopens))

    def filter_sla(self, queryset, name, value):
        """Incidents with a timer of SLA definition `value`, narrowed by `sla_state` and the window
        [`sla_after`, `sla_before`) of the instant it stopped or breached."""
        timers = Timer.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident),
            object_id=OuterRef("pk"),
            definition_id=value,
        )
        data = self.form.cleaned_data
        if data.get("sla_state"):
            timers = timers.filter(state=data["sla_state"])
        ended = Coalesce("breached_at", "stopped_at")
        if data.get("sla_after"):
            timers = timers.alias(ended=ended).filter(ended__gte=data["sla_after"])
        if data.get("sla_before"):
            timers = timers.alias(ended=ended).filter(ended__lt=data["sla_before"])
        return queryset.filter(Exists(timers))

    def filter_noop(self, queryset, name, value):
        """Qualifiers read by filter_sla; on their own they filter nothing."""
        return queryset

    def filter_sla_timer_state(self, queryset, name, value):
        """Incidents with at least one SLA timer in this state (running, paused, met, breached...)."""
        return filter_by_sla_state(queryset, value)

    def filter_breaching_soon(self, queryset, name, value):
        return breaching_soon(queryset) if value else queryset
