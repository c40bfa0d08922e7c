"""Change and blackout FilterSets: used by the list and calendar pages and the API alike."""

from core.filtersets import CharInFilter, DateTimeFilter, FilterSet, IdInFilter, TicketFilterSet

from .models import BlackoutWindow, Change


class ChangeFilterSet(TicketFilterSet):
    type = CharInFilter(field_name="type")
    risk = CharInFilter(field_name="risk")
    problem = CharInFilter(field_name="problem__number")
    template = IdInFilter(field_name="template_id")
    planned_after = DateTimeFilter(field_name="planned_end", lookup_expr="gt")
    planned_before = DateTimeFilter(field_name="planned_start", lookup_expr="lt")

    class Meta:
        model = Change
        fields: list[str] = []


class BlackoutWindowFilterSet(FilterSet):
    after = DateTimeFilter(field_name="end", lookup_expr="gt")
    before = DateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = BlackoutWindow
        fields: list[str] = []
