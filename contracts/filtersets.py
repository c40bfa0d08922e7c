"""Filters of contracts, software and licenses; the list pages and the API use the same FilterSets."""

import django_filters as filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from core.filtersets import CharInFilter, FilterSet, IdInFilter, IntegerFilter

from . import selectors
from .choices import ContractType, LicenseMetric, Renewal
from .models import Contract, License, Software, Vendor


class ContractFilterSet(FilterSet):
    vendor = IdInFilter(field_name="vendor_id", label="Vendor")
    type = filters.MultipleChoiceFilter(choices=ContractType.choices)
    renewal = filters.ChoiceFilter(choices=Renewal.choices)
    owner = CharInFilter(field_name="owner__username")
    ci = IdInFilter(field_name="configuration_items", label="Covers CI", distinct=True)
    expiring_within = extend_schema_field({"type": "integer", "minimum": 0, "maximum": 36500})(
        IntegerFilter(method="filter_expiring", label="Ends within (days)", min_value=0, max_value=36500)
    )
    q = filters.CharFilter(method="filter_text", label="Search")
    search = filters.CharFilter(method="filter_text", label="Search")
    ordering = filters.OrderingFilter(
        fields=(("end_date", "end_date"), ("number", "number"), ("name", "name"))
    )

    class Meta:
        model = Contract
        fields = ["vendor", "type", "renewal", "owner", "ci", "expiring_within"]

    def filter_expiring(self, queryset, name, value):
        if value is None:
            return queryset
        return selectors.expiring_within(queryset, value)

    def filter_text(self, queryset, name, value):
        text = (value or "").strip()[:200]
        if not text:
            return queryset
        return queryset.filter(
            Q(name__icontains=text) | Q(number__iexact=text) | Q(vendor__name__icontains=text)
        )


class VendorFilterSet(FilterSet):
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    search = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")

    class Meta:
        model = Vendor
        fields = ["q"]


class SoftwareFilterSet(FilterSet):
    q = filters.CharFilter(method="filter_text", label="Search")
    search = filters.CharFilter(method="filter_text", label="Search")
    publisher = filters.CharFilter(field_name="publisher", lookup_expr="iexact")

    class Meta:
        model = Software
        fields = ["publisher"]

    def filter_text(self, queryset, name, value):
        text = (value or "").strip()[:200]
        return queryset.filter(Q(name__icontains=text) | Q(publisher__icontains=text)) if text else queryset


class LicenseFilterSet(FilterSet):
    software = IdInFilter(field_name="software_id")
    metric = filters.ChoiceFilter(choices=LicenseMetric.choices)
    contract = CharInFilter(field_name="contract__number")

    class Meta:
        model = License
        fields = ["software", "metric", "contract"]
