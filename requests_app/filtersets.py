"""Request and task FilterSets: used by the agent list pages and the API alike."""

from core.filtersets import CharInFilter, IdInFilter, TicketFilterSet

from .models import Request, Task


class RequestFilterSet(TicketFilterSet):
    catalog_item = IdInFilter(field_name="catalog_item_id")
    requested_for = CharInFilter(field_name="requested_for__username")

    class Meta:
        model = Request
        fields: list[str] = []


class TaskFilterSet(TicketFilterSet):
    request = CharInFilter(field_name="request__number")

    class Meta:
        model = Task
        fields: list[str] = []
