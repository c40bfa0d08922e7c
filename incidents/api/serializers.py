from rest_framework import serializers

from core.api.fields import UsernameField
from core.api.serializers import TicketSerializer
from incidents.models import Category, Incident
from problems.models import Problem


class IncidentSerializer(TicketSerializer):
    caller = UsernameField(required=False, allow_null=True)
    category = serializers.SlugRelatedField(
        slug_field="name", queryset=Category.objects.filter(active=True), required=False, allow_null=True
    )
    parent = serializers.SlugRelatedField(
        slug_field="number", queryset=Incident.objects.all(), required=False, allow_null=True
    )
    problem = serializers.SlugRelatedField(
        slug_field="number", queryset=Problem.objects.all(), required=False, allow_null=True
    )

    class Meta(TicketSerializer.Meta):
        model = Incident
        fields = [
            *TicketSerializer.common_fields,
            "impact",
            "urgency",
            "caller",
            "category",
            "parent",
            "problem",
            "major",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = [
            *TicketSerializer.common_read_only,
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
        ]
