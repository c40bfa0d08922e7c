"""Rules and macros in the API (SPEC §6 shape). Validation is the service's: errors name the condition or
action by index and field (`conditions.all[0].value`, `actions[1].group`)."""

from __future__ import annotations

from rest_framework import serializers

from automation.models import KIND_CHOICES, Macro, Rule, Trigger
from automation.validation import ACTION_TYPES, ALL_OPS
from core.api.fields import json_field

_CONDITION = {
    "type": "object",
    "properties": {"field": {"type": "string"}, "op": {"type": "string", "enum": list(ALL_OPS)}, "value": {}},
    "required": ["op"],
}
# What the schema can say of a rule; which fields, values and operators fit which kind is the service's
# check (automation.validation), answered as a 400 naming the condition or action.
ConditionsField = json_field(
    {
        "type": "object",
        "properties": {
            "all": {"type": "array", "items": _CONDITION},
            "any": {"type": "array", "items": _CONDITION},
        },
        "additionalProperties": False,
    },
    lambda value: isinstance(value, dict),
    'Conditions are {"all": [...], "any": [...]}.',
)
ActionsField = json_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": list(ACTION_TYPES)}},
            "required": ["type"],
        },
    },
    lambda value: isinstance(value, list),
    "Actions are a list of objects with a `type`.",
)


class RuleSerializer(serializers.ModelSerializer):
    applies_to = serializers.ChoiceField(choices=KIND_CHOICES)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    conditions = ConditionsField(required=False)
    actions = ActionsField()
    builtin = serializers.CharField(
        read_only=True, help_text="Key of an out-of-the-box rule (empty for others)"
    )

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "description",
            "applies_to",
            "trigger",
            "conditions",
            "actions",
            "order",
            "active",
            "stop_processing",
            "builtin",
            "fire_count",
            "last_fired_at",
            "last_error",
            "last_error_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "builtin",
            "fire_count",
            "last_fired_at",
            "last_error",
            "last_error_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness of the name is the model's; the service's full_clean reports it as a 400 on `name`.
        validators: list = []
        extra_kwargs = {"name": {"validators": []}}


class MacroSerializer(serializers.ModelSerializer):
    applies_to = serializers.ChoiceField(choices=KIND_CHOICES)
    actions = ActionsField()

    class Meta:
        model = Macro
        fields = ["id", "name", "description", "applies_to", "actions", "active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}


class PreviewSerializer(serializers.Serializer):
    """An unsaved rule's conditions, for the editor's preview (the saved rule's preview needs no body)."""

    applies_to = serializers.ChoiceField(choices=KIND_CHOICES)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    conditions = ConditionsField(required=False, default=dict)


class PreviewResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = serializers.ListField(child=serializers.CharField())


class ApplyMacroSerializer(serializers.Serializer):
    macro = serializers.IntegerField()


class AppliedMacroSerializer(serializers.Serializer):
    number = serializers.CharField()
    macro = serializers.CharField()
    state = serializers.CharField()
    assignment_group = serializers.CharField(allow_null=True)
    assigned_to = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
