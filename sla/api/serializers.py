"""SLA resources in the API: definitions and calendars (SPEC §4 shape), and a ticket's timers."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from core.api.fields import JSONObjectField, json_field
from core.perf.field_cache import PrebuiltFieldsMixin
from sla.models import BusinessCalendar, Holiday, SLADefinition, Timer, WorkingHours
from sla.validation import validate_definition


class TimerSerializer(PrebuiltFieldsMixin, serializers.ModelSerializer):
    """One timer as listed in a ticket's `sla_timers`; elapsed, paused and percent are live values."""

    definition = serializers.CharField(source="definition.name", read_only=True)
    elapsed_seconds = serializers.SerializerMethodField()
    paused_seconds = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()

    class Meta:
        model = Timer
        fields = [
            "id",
            "definition",
            "target",
            "state",
            "started_at",
            "due_at",
            "elapsed_seconds",
            "paused_seconds",
            "percent",
            "breached_at",
            "stopped_at",
            "at_risk",
            "predicted_breach_at",
        ]

    def _now(self):
        now = self.context.get("_sla_now")
        if now is None:
            now = self.context["_sla_now"] = timezone.now()
        return now

    def get_elapsed_seconds(self, obj: Timer) -> int:
        return int(obj.live_elapsed(self._now()))

    def get_paused_seconds(self, obj: Timer) -> int:
        return int(obj.live_paused(self._now()))

    def get_percent(self, obj: Timer) -> float:
        return obj.percent(self._now())


class WholeRowSerializer(serializers.ModelSerializer):
    """A calendar's nested row is written whole, even in a PATCH of the calendar: DRF makes a partial write's
    nested fields optional too, and a row without its `date` or `start` reached the model (a 500)."""

    def validate(self, attrs):
        missing = [name for name, field in self.fields.items() if field.required and name not in attrs]
        if missing:
            raise serializers.ValidationError({name: "This field is required." for name in missing})
        return attrs


class WorkingHoursSerializer(WholeRowSerializer):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end"]


class HolidaySerializer(WholeRowSerializer):
    class Meta:
        model = Holiday
        fields = ["name", "date", "end_date"]


class CalendarSerializer(serializers.ModelSerializer):
    """A calendar with its weekly hours and holidays, written as a whole."""

    hours = WorkingHoursSerializer(many=True)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "time_zone", "description", "hours", "holidays"]

    def validate(self, attrs):
        instance = BusinessCalendar(
            name=attrs.get("name", getattr(self.instance, "name", "")),
            time_zone=attrs.get("time_zone", getattr(self.instance, "time_zone", "UTC")),
        )
        errors = {}
        try:
            instance.clean()
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
        for index, row in enumerate(attrs.get("hours", [])):
            try:
                WorkingHours(calendar=instance, **row).clean()
            except DjangoValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors[f"hours[{index}].{field}"] = messages
        for index, row in enumerate(attrs.get("holidays", [])):
            try:
                Holiday(calendar=instance, **row).clean()
            except DjangoValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors[f"holidays[{index}].{field}"] = messages
        if (
            self.instance is not None
            and "hours" in attrs
            and not attrs["hours"]
            and self.instance.definitions.exists()
        ):
            errors["hours"] = ["SLA definitions use this calendar; it cannot lose all its working hours."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class DefinitionSerializer(serializers.ModelSerializer):
    """`{"name", "applies_to", "conditions", "target", "duration", "calendar", "pause_states", ...}`."""

    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), allow_null=True, required=False
    )
    # Seconds of working time, at most ten years (the column is a 32-bit integer).
    duration = serializers.IntegerField(min_value=1, max_value=10 * 366 * 24 * 3600)
    # The shapes sla.validation checks, said in the schema (a JSONField is documented as "any value").
    conditions = JSONObjectField(required=False)
    pause_states = json_field(
        {"type": "array", "items": {"type": "string"}},
        lambda value: isinstance(value, list),
        "Give a list of state names.",
    )(required=False)
    warning_thresholds = json_field(
        {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 99}},
        lambda value: isinstance(value, list),
        "Give a list of percentages.",
    )(required=False)
    escalations = json_field(
        {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        lambda value: isinstance(value, list),
        "Give a list of escalation entries.",
    )(required=False)

    class Meta:
        model = SLADefinition
        fields = [
            "id",
            "name",
            "applies_to",
            "conditions",
            "target",
            "duration",
            "calendar",
            "pause_states",
            "warning_thresholds",
            "escalations",
            "active",
        ]

    def validate(self, attrs):
        definition = SLADefinition(**{**self._current(), **attrs})
        try:
            validate_definition(definition)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict)
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {name: getattr(self.instance, name) for name in self.Meta.fields if name not in ("id",)}
