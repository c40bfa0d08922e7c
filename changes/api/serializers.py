from rest_framework import serializers

from changes.models import BlackoutWindow, Change, ChangeTemplate
from changes.risk import WEIGHTS
from cmdb.models import ConfigurationItem
from core.api.fields import UsernameField, VisibleTicketField, json_field
from core.api.serializers import TicketSerializer
from problems.models import Problem

RiskAnswersField = json_field(
    {
        "type": "object",
        "properties": {key: {"type": "boolean"} for key in WEIGHTS},
        "additionalProperties": False,
    },
    lambda value: isinstance(value, dict),
    "Give the answers as an object of question → true/false.",
)


class ChangeTemplateSerializer(serializers.ModelSerializer):
    assignment_group = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = ChangeTemplate
        fields = [
            "id",
            "name",
            "short_description",
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "risk",
            "assignment_group",
            "active",
        ]


class BlackoutWindowSerializer(serializers.ModelSerializer):
    configuration_items = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ConfigurationItem.objects.all()
    )
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = BlackoutWindow
        fields = ["id", "name", "start", "end", "reason", "configuration_items", "created_by"]


class ApprovalBriefSerializer(serializers.Serializer):
    approver = serializers.CharField(source="approver.username")
    stage = serializers.IntegerField()
    state = serializers.CharField()
    comment = serializers.CharField()
    decided_at = serializers.DateTimeField()


class ChangeSerializer(TicketSerializer):
    """A change; `template` (id) makes it standard; `risk` is computed from `risk_answers` unless
    `risk_override` (with `risk_override_reason`) is given. `approvals` lists the current CAB round."""

    template = serializers.PrimaryKeyRelatedField(
        queryset=ChangeTemplate.objects.all(), required=False, allow_null=True
    )
    cab_approvers = UsernameField(many=True, required=False)
    problem = VisibleTicketField(Problem, required=False, allow_null=True)
    risk_answers = RiskAnswersField(required=False)
    # Optional: a change raised from a template takes the template's short description.
    short_description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    approvals = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        model = Change
        fields = [
            *TicketSerializer.common_fields,
            "type",
            "template",
            "risk",
            "risk_answers",
            "risk_override",
            "risk_override_reason",
            "planned_start",
            "planned_end",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "cab_approvers",
            "approvals",
            "close_code",
            "close_notes",
            "review_notes",
            "problem",
            "implemented_at",
            "closed_at",
        ]
        read_only_fields = [
            *[f for f in TicketSerializer.common_read_only if f != "priority"],
            "risk",
            "close_code",
            "close_notes",
            "review_notes",
            "implemented_at",
            "closed_at",
        ]

    def get_approvals(self, obj) -> list[dict]:
        rows = [a for a in obj.approvals.all() if a.stage == obj.approval_round and a.state != "canceled"]
        rows.sort(key=lambda a: a.approver.username)
        return ApprovalBriefSerializer(rows, many=True).data


class ChangeUpdateSerializer(ChangeSerializer):
    """PUT and PATCH of a change: type and template are chosen when the change is raised, so the update's
    schema marks them read-only (sending another value is a 400 naming them)."""

    template = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta(ChangeSerializer.Meta):
        read_only_fields = [*ChangeSerializer.Meta.read_only_fields, "type"]
