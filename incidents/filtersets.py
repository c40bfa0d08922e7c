"""The incident FilterSet: used by the agent list page and the API alike."""

import django_filters as filters

from core.filtersets import CharInFilter, NumberInFilter, TicketFilterSet

from .models import Incident


class IncidentFilterSet(TicketFilterSet):
    caller = CharInFilter(field_name="caller__username")
    category = CharInFilter(field_name="category__name")
    impact = NumberInFilter(field_name="impact")
    urgency = NumberInFilter(field_name="urgency")
    major = filters.BooleanFilter(field_name="major")
    problem = CharInFilter(field_name="problem__number")
    parent = CharInFilter(field_name="parent__number")

    class Meta:
        model = Incident
        fields: list[str] = []
