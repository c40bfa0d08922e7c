"""Serializer fields shared by every resource: users and groups by name, CIs by id, JSON objects."""

from django.apps import apps
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import AssignmentGroup
from accounts.selectors import active_group_named, active_group_with_pk
from core.extensions import provided
from core.perf.orm import is_loaded
from core.selectors import visible_tickets


class NamedRelatedField(serializers.SlugRelatedField):
    """A reference by name or number. Text PostgreSQL cannot compare (NUL characters) reads as "does not
    exist" instead of reaching the database as a 500."""

    default_error_messages = {"blank": 'Send null to leave this empty; "" names nothing.'}

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for related fields (an empty HTML form input); the API speaks JSON only.
        if data == "":
            self.fail("blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if "\x00" in str(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data).replace("\x00", ""))
        return super().to_internal_value(data)


class UsernameField(NamedRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)


class GroupNameField(NamedRelatedField):
    """An active assignment group by name, resolved from the per-process group cache
    (accounts.selectors.active_group_named) instead of a query on every write."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "name")
        kwargs.setdefault("queryset", AssignmentGroup.objects.filter(active=True))  # for the schema
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        group = active_group_named(str(data))
        if group is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data).replace("\x00", ""))
        return group

    def get_attribute(self, instance):
        """The record's group from the same per-process cache when the record has not loaded it (a ticket
        just written by a service): rendering a write's answer then costs no query for it."""
        (name,) = self.source_attrs[-1:] or ("",)
        pk = getattr(instance, f"{name}_id", None) if len(self.source_attrs) == 1 else None
        if pk is not None and not is_loaded(instance, name):
            group = active_group_with_pk(pk)
            if group is not None:
                return group
        return super().get_attribute(instance)


class VisibleTicketField(NamedRelatedField):
    """A reference to another ticket by number, resolved only among the records the caller may see, so a
    hidden record cannot be linked (it reads as "does not exist", like a 404)."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("slug_field", "number")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return visible_tickets(self.model, request.user if request else None)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).upper())


class VisibleCIField(serializers.PrimaryKeyRelatedField):
    """A CI id, resolved only among the CIs the caller may read (`visible_cis`, provided by cmdb)."""

    def get_queryset(self):
        request = self.context.get("request")
        user = request.user if request else None
        if user is None or not user.is_authenticated:
            return apps.get_model("cmdb", "ConfigurationItem").objects.none()
        return provided("visible_cis")(user)


class RequiredBooleanField(serializers.BooleanField):
    """A yes/no the caller must give. DRF reads a boolean missing from a form-encoded body as false (an
    unticked checkbox); an API vote without `helpful` must be a 400, not a silent "no"."""

    default_empty_html = serializers.empty


def json_field(schema: dict, check, message: str):
    """A JSONField documented by `schema` that refuses, with `message`, a value `check` does not accept.

    DRF's JSONField is documented by drf-spectacular as "any value", null included, while the API takes only
    an object (or a list of objects) in such fields; a generated client or a fuzzer that trusted the schema
    sent null or a string and got a 400 the schema did not foretell."""

    @extend_schema_field(schema)
    class DocumentedJSONField(serializers.JSONField):
        def to_internal_value(self, data):
            value = super().to_internal_value(data)
            if not check(value):
                raise serializers.ValidationError(message)
            return value

    return DocumentedJSONField


JSONObjectField = json_field(
    {"type": "object", "additionalProperties": {}},
    lambda value: isinstance(value, dict),
    "Must be a JSON object.",
)
