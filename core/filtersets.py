"""The FilterSet every ticket list starts from; the web list pages and the API use the same class.

Filters accept several values (`?state=new&state=in_progress` or `?state=new,in_progress`), address groups
and users by name, and `search` does full-text search (or an exact number match for "INC0000042").
"""

import copy
import re
from datetime import UTC, timedelta

import django_filters as filters
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters.fields import IsoDateTimeField
from django_filters.filters import FilterMethod

NUMBER_PATTERN = re.compile(r"^[A-Z]{2,4}\d{7}$")


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """Comma-separated or repeated values."""


class NumberInFilter(filters.BaseInFilter, filters.NumberFilter):
    pass


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time normalised to UTC; offsets PostgreSQL cannot store (beyond ±15:59) or dates
    that overflow once converted are a clear 400 naming the parameter, never a database error."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        offset = parsed.utcoffset()
        try:
            if offset is not None and abs(offset) >= timedelta(hours=16):
                raise ValueError
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(
                "Enter a date-time between years 1 and 9999 with a UTC offset under 16 hours.", code="invalid"
            ) from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    """The date-time filter every list uses (see UTCIsoDateTimeField)."""

    field_class = UTCIsoDateTimeField


class PrebuiltFiltersMixin:
    """Build a FilterSet's filters' form fields and its form class once per class, not per request.

    django-filter deep-copies every declared filter for each FilterSet instance (so each can point at its
    `parent`) and then builds a new form class, with a new form field per filter, each time the form is
    read: about a sixth of an API list request's CPU. Our filters never depend on the request (no callable
    querysets), so the class keeps prototypes whose form fields are built once, each instance gets
    shallow copies (the same attributes, its own `parent`), and the form class is made once; Django still
    deep-copies the form's fields for each form instance, so the bound form is the instance's own.
    """

    @classmethod
    def _prebuilt(cls) -> tuple[dict, type]:
        built = cls.__dict__.get("_prebuilt_filters")  # each subclass builds its own (not inherited)
        if built is None:
            filters_ = copy.deepcopy(cls.base_filters)
            for filter_ in filters_.values():
                filter_.model = cls._meta.model
            fields = {name: filter_.field for name, filter_ in filters_.items()}
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            built = cls._prebuilt_filters = (filters_, form_class)
        return built

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django_filters.FilterSet.__init__, with the prototypes' copies instead of a deep copy.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        prototypes, _ = self._prebuilt()
        self.filters = {}
        for name, prototype in prototypes.items():
            filter_ = object.__new__(type(prototype))
            filter_.__dict__.update(prototype.__dict__)
            filter_.model, filter_.parent = queryset.model, self
            if isinstance(filter_.__dict__.get("filter"), FilterMethod):
                filter_.filter = FilterMethod(filter_)  # a `method=` proxy points back at its own filter
            self.filters[name] = filter_

    def get_form_class(self):
        return self._prebuilt()[1]


class MultiValueMixin:
    """Accept `?x=a&x=b` as well as `?x=a,b` for every `*InFilter`, and drop NUL characters, which
    PostgreSQL cannot compare (a query string is never a reason for a 500)."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            for name in list(data):
                data.setlist(name, [value.replace("\x00", "") for value in data.getlist(name)])
            for name, flt in self.base_filters.items():
                if isinstance(flt, filters.BaseInFilter) and len(data.getlist(name)) > 1:
                    data.setlist(name, [",".join(data.getlist(name))])
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
    """The base of every FilterSet here: several values per filter, filters and form built once per class."""


class TicketFilterSet(FilterSet):
    state = CharInFilter(field_name="state")
    priority = NumberInFilter(field_name="priority")
    assignment_group = CharInFilter(field_name="assignment_group__name")
    assigned_to = CharInFilter(field_name="assigned_to__username")
    opened_by = CharInFilter(field_name="opened_by__username")
    ci = NumberInFilter(field_name="configuration_items", distinct=False, method="filter_ci")
    opened_after = DateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = DateTimeFilter(field_name="opened_at", lookup_expr="lt")
    unassigned = filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
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
        from sla.selectors import at_risk

        if value == "true":
            return at_risk(queryset)
        return queryset.exclude(pk__in=at_risk(queryset).values("pk"))
