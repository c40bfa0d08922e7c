"""The filter backend of every API list: django-filter's, building `filterset_fields` FilterSets on ours."""

from django_filters.rest_framework import DjangoFilterBackend

from core.filtersets import FilterSet


class FilterBackend(DjangoFilterBackend):
    filterset_base = FilterSet
