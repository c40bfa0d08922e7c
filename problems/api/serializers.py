from rest_framework import serializers

from core.api.serializers import TicketSerializer
from problems.models import Problem


class ProblemSerializer(TicketSerializer):
    """A problem with its linked incidents and changes by number (read-only here: link incidents with
    the `link_incidents` action, changes by setting the change's `problem`)."""

    incidents = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    changes = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        model = Problem
        fields = [
            *TicketSerializer.common_fields,
            "root_cause",
            "workaround",
            "known_error",
            "known_error_article",
            "incidents",
            "changes",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = [
            *[f for f in TicketSerializer.common_read_only if f != "priority"],
            "known_error_article",
            "resolved_at",
            "closed_at",
        ]


class IncidentNumbersSerializer(serializers.Serializer):
    incidents = serializers.ListField(
        child=serializers.CharField(max_length=16), allow_empty=False, max_length=500
    )
