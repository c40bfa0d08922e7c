"""The problem FilterSet: used by the list page and the API alike."""

from core.filtersets import BooleanFilter, CharInFilter, TicketFilterSet

from .models import Problem


class ProblemFilterSet(TicketFilterSet):
    known_error = BooleanFilter(field_name="known_error")
    incident = CharInFilter(field_name="incidents__number", distinct=True)

    class Meta:
        model = Problem
        fields: list[str] = []
