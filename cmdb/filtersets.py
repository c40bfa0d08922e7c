"""The CI and relationship filters; the CI list page and the API use the same FilterSet."""

import django_filters as filters
from django.db.models import Q, QuerySet

from core.filtersets import CharInFilter, FilterSet, IdInFilter
from core.numbers import parse_id

from .models import CIStatus, ConfigurationItem, Environment, Relationship, RelationshipType


def text_search(queryset: QuerySet, value: str) -> QuerySet:
    """Name contains the text, or the exact serial number; an all-digit text also matches the id.

    A filter must find every match, so this stays a substring search: the trigram index of migration 0003
    serves it where pg_trgm exists, a sequential scan elsewhere. The CI picker uses the faster, ranked
    selectors.autocomplete_cis instead.
    """
    text = (value or "").strip()[:200]
    if not text:
        return queryset
    condition = Q(name__icontains=text) | Q(serial_number=text)
    ci_id = parse_id(text)
    if ci_id is not None:
        condition |= Q(pk=ci_id)
    return queryset.filter(condition)


class CIFilterSet(FilterSet):
    ci_class = CharInFilter(field_name="ci_class__name", label="Class")
    status = filters.MultipleChoiceFilter(choices=CIStatus.choices)
    environment = filters.MultipleChoiceFilter(choices=Environment.choices)
    support_group = CharInFilter(field_name="support_group__name", label="Support group")
    owner = CharInFilter(field_name="owner__username")
    serial_number = filters.CharFilter()
    q = filters.CharFilter(method="filter_text", label="Search")
    search = filters.CharFilter(method="filter_text", label="Search")
    ordering = filters.OrderingFilter(
        fields=(("name", "name"), ("updated_at", "updated_at"), ("id", "id"), ("status", "status"))
    )

    class Meta:
        model = ConfigurationItem
        fields = ["ci_class", "status", "environment", "support_group", "owner", "serial_number"]

    def filter_text(self, queryset, name, value):
        return text_search(queryset, value)


class RelationshipFilterSet(FilterSet):
    ci = IdInFilter(method="filter_ci", label="Either end")
    source = IdInFilter(field_name="source_id")
    target = IdInFilter(field_name="target_id")
    type = filters.MultipleChoiceFilter(choices=RelationshipType.choices)

    class Meta:
        model = Relationship
        fields = ["source", "target", "type"]

    def filter_ci(self, queryset, name, value):
        return queryset.filter(Q(source_id__in=value) | Q(target_id__in=value)) if value else queryset
