"""The FilterSet every ticket list starts from; the web list pages and the API use the same class.

Filters accept several values (`?state=new&state=in_progress` or `?state=new,in_progress`), address groups
and users by name, and `search` does full-text search (or an exact number match for "INC0000042").
"""

import re
from datetime import UTC

import django_filters as filters
from django import forms
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from .choices import Priority
from .extensions import provided
from .numbers import MAX_ID, parse_id
from .perf.filter_cache import PrebuiltFiltersMixin

NUMBER_PATTERN = re.compile(r"^[A-Z]{2,4}\d{7}$")


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """The yes/no/unknown select of the list pages, handing the raw query value to the field to judge."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.NullBooleanField):
    """true/false (also 1/0, yes/no, on/off); empty or "unknown" means "not filtered"; anything else is a 400
    naming the parameter (Django's field reads every unknown word as "not filtered", silently)."""

    widget = StrictNullBooleanSelect
    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off"}

    def to_python(self, value):
        if value in (True, False):
            return value
        text = str(value or "").strip().lower()
        if text in ("", "unknown", "none"):
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError("Enter true or false.", code="invalid")


class BooleanFilter(filters.BooleanFilter):
    """The boolean filter every list uses (see StrictBooleanField)."""

    field_class = StrictBooleanField


class IntegerFilter(filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes decimals, so `?stage=0.5` matched nothing, silently)."""

    field_class = forms.IntegerField


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """Comma-separated or repeated values."""


class ChoiceInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """Comma-separated or repeated values of a choice (`?impact=1,2`); one outside the choices is a 400 naming
    the parameter, and the schema lists them."""


class IdField(forms.IntegerField):
    """A record's id: ASCII digits from 1 to the largest id a column holds (core.numbers.parse_id), else a
    400 naming the parameter (django-filter's NumberFilter took `1e210` or `0.5` and refused or matched
    nothing, against a schema that said "any number")."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = parse_id(str(value).strip())
        if parsed is None:
            raise ValidationError(f"Enter a record id: a whole number from 1 to {MAX_ID}.", code="invalid")
        return parsed


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """One record id (see IdField)."""

    field_class = IdField


@extend_schema_field(ID_SCHEMA)
class IdInFilter(filters.BaseInFilter, IdFilter):
    """Comma-separated or repeated record ids (see IdField)."""


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time normalised to UTC before it reaches PostgreSQL (which takes no offset beyond
    ±15:59, while RFC 3339 allows up to ±23:59); a date that overflows once converted is a clear 400 naming
    the parameter, never a database error."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("Enter a date-time between years 1 and 9999.", code="invalid") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    """The date-time filter every list uses (see UTCIsoDateTimeField)."""

    field_class = UTCIsoDateTimeField


class MultiValueMixin:
    """Accept `?x=a&x=b` as well as `?x=a,b` for every `*InFilter`, read an empty value of a multiple
    choice as no value (as every other filter does), and drop NUL characters, which PostgreSQL cannot
    compare (a query string is never a reason for a 500)."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            for name in list(data):
                data.setlist(name, [value.replace("\x00", "") for value in data.getlist(name)])
            for name, flt in self.base_filters.items():
                if isinstance(flt, filters.BaseInFilter) and len(data.getlist(name)) > 1:
                    data.setlist(name, [",".join(data.getlist(name))])
                if isinstance(flt, filters.MultipleChoiceFilter):  # `?status=` means "not filtered"
                    data.setlist(name, [value for value in data.getlist(name) if value != ""])
        super().__init__(data, *args, **kwargs)


def full_text_search(queryset: QuerySet, value: str) -> QuerySet:
    """Exact number match when the text is a number, else ranked-free full-text match on the stored vector."""
    text = (value or "").strip()[:200]
    if not text:
        return queryset
    if NUMBER_PATTERN.match(text.upper()):
        return queryset.filter(number=text.upper())
    return queryset.filter(search_vector=SearchQuery(text, search_type="websearch", config="english"))


class FilterSet(MultiValueMixin, PrebuiltFiltersMixin, filters.FilterSet):
    """The base of every FilterSet here: several values per filter, filters and form built once per class.

    Also the base of the FilterSets DRF builds from a viewset's `filterset_fields` (core.api.filters), so a
    boolean column is filtered strictly there too.
    """

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
        **{
            field: {"filter_class": IntegerFilter}
            for field in (
                models.IntegerField,
                models.SmallIntegerField,
                models.BigIntegerField,
                models.PositiveIntegerField,
                models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField,
            )
        },
    }


class TicketFilterSet(FilterSet):
    state = CharInFilter(field_name="state")
    priority = ChoiceInFilter(field_name="priority", choices=Priority.choices)
    assignment_group = CharInFilter(field_name="assignment_group__name")
    assigned_to = CharInFilter(field_name="assigned_to__username")
    opened_by = CharInFilter(field_name="opened_by__username")
    ci = IdInFilter(field_name="configuration_items", distinct=False, method="filter_ci")
    opened_after = DateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = DateTimeFilter(field_name="opened_at", lookup_expr="lt")
    unassigned = BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    search = filters.CharFilter(method="filter_search")
    # A choice, not a BooleanFilter: that one ignores `?at_risk=maybe`, this answers 400 naming the field.
    at_risk = filters.ChoiceFilter(
        choices=[("true", "Yes"), ("false", "No")], method="filter_at_risk", label="SLA at risk"
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("number", "number"),
            ("opened_at", "opened_at"),
            ("updated_at", "updated_at"),
            ("priority", "priority"),
            ("state", "state"),
            ("short_description", "short_description"),
        )
    )

    def filter_search(self, queryset, name, value):
        return full_text_search(queryset, value)

    def filter_ci(self, queryset, name, value):
        # A subquery instead of a join: no duplicate rows, and the planner can use the link table's index.
        through = queryset.model.configuration_items.through
        owner = f"{queryset.model._meta.model_name}_id"
        ids = through.objects.filter(configurationitem_id__in=value).values(owner)
        return queryset.filter(pk__in=ids)

    def filter_at_risk(self, queryset, name, value):
        """`?at_risk=true`: tickets with a running SLA timer predicted to breach (sla.risk); false: the rest."""
        at_risk = provided("at_risk_tickets")  # sla.selectors.at_risk, provided by sla (core.extensions)
        if value == "true":
            return at_risk(queryset)
        return queryset.exclude(pk__in=at_risk(queryset).values("pk"))
